public import Foundation

/// `batch/v1` Job, as far as scheduling and suspension go.
public struct Job: KubernetesObject, Hashable {
    public static let apiVersion = "batch/v1"
    public static let kind = "Job"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: JobSpec?
    public var status: JobStatus?

    public init(apiVersion: String? = Job.apiVersion, kind: String? = Job.kind, metadata: ObjectMeta, spec: JobSpec? = nil, status: JobStatus? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try container.decodeIfPresent(JobSpec.self, forKey: .spec)
        status = try container.decodeIfPresent(JobStatus.self, forKey: .status)
    }

    /// A Job has finished once it has a `Complete` or `Failed` condition that is `True`.
    public var isFinished: Bool {
        status?.conditions?.contains { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" } ?? false
    }

    public var isSuspended: Bool { spec?.suspend ?? false }

    /// The API server lets the pod template's scheduling fields change only while the Job is
    /// suspended and has never started.
    public var schedulingIsMutable: Bool { isSuspended && status?.startTime == nil }
}

public struct JobSpec: Sendable, Hashable, Codable {
    public var suspend: Bool?
    public var parallelism: Int?
    public var completions: Int?
    public var activeDeadlineSeconds: Int64?
    public var template: PodTemplateSpec?

    public init(suspend: Bool? = nil, parallelism: Int? = nil, completions: Int? = nil, activeDeadlineSeconds: Int64? = nil, template: PodTemplateSpec? = nil) {
        self.suspend = suspend
        self.parallelism = parallelism
        self.completions = completions
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.template = template
    }
}

public struct JobStatus: Sendable, Hashable, Codable {
    public var startTime: Date?
    public var completionTime: Date?
    public var active: Int?
    public var succeeded: Int?
    public var failed: Int?
    public var conditions: [JobCondition]?

    public init(startTime: Date? = nil, completionTime: Date? = nil, active: Int? = nil, succeeded: Int? = nil, failed: Int? = nil, conditions: [JobCondition]? = nil) {
        self.startTime = startTime
        self.completionTime = completionTime
        self.active = active
        self.succeeded = succeeded
        self.failed = failed
        self.conditions = conditions
    }
}

public struct JobCondition: Sendable, Hashable, Codable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: Date?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: Date? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }
}

public struct PodTemplateSpec: Sendable, Hashable, Codable {
    public var metadata: ObjectMeta?
    public var spec: PodSpec?

    public init(metadata: ObjectMeta? = nil, spec: PodSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// The pod spec's scheduling fields; containers and the rest are left to the raw object.
public struct PodSpec: Sendable, Hashable, Codable {
    public var affinity: Affinity?
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?

    public init(affinity: Affinity? = nil, nodeSelector: [String: String]? = nil, tolerations: [Toleration]? = nil) {
        self.affinity = affinity
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
    }
}

/// Only `nodeAffinity` is modelled: pod (anti-)affinity is kept by patching below this level.
public struct Affinity: Sendable, Hashable, Codable {
    public var nodeAffinity: NodeAffinity?

    public init(nodeAffinity: NodeAffinity? = nil) { self.nodeAffinity = nodeAffinity }
}

public struct NodeAffinity: Sendable, Hashable, Codable {
    public var requiredDuringSchedulingIgnoredDuringExecution: NodeSelector?
    public var preferredDuringSchedulingIgnoredDuringExecution: [PreferredSchedulingTerm]?

    public init(required: NodeSelector? = nil, preferred: [PreferredSchedulingTerm]? = nil) {
        self.requiredDuringSchedulingIgnoredDuringExecution = required
        self.preferredDuringSchedulingIgnoredDuringExecution = preferred
    }
}

public struct NodeSelector: Sendable, Hashable, Codable {
    public var nodeSelectorTerms: [NodeSelectorTerm]

    public init(nodeSelectorTerms: [NodeSelectorTerm]) { self.nodeSelectorTerms = nodeSelectorTerms }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        nodeSelectorTerms = try container.decodeIfPresent([NodeSelectorTerm].self, forKey: .nodeSelectorTerms) ?? []
    }
}

public struct NodeSelectorTerm: Sendable, Hashable, Codable {
    public var matchExpressions: [NodeSelectorRequirement]?
    public var matchFields: [NodeSelectorRequirement]?

    public init(matchExpressions: [NodeSelectorRequirement]? = nil, matchFields: [NodeSelectorRequirement]? = nil) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }
}

public struct NodeSelectorRequirement: Sendable, Hashable, Codable {
    public var key: String
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

public struct PreferredSchedulingTerm: Sendable, Hashable, Codable {
    public var weight: Int
    public var preference: NodeSelectorTerm

    public init(weight: Int, preference: NodeSelectorTerm) {
        self.weight = weight
        self.preference = preference
    }
}

public struct Toleration: Sendable, Hashable, Codable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?

    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}
