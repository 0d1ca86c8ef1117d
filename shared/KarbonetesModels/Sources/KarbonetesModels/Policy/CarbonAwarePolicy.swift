/// `carbon-aware.io/v1alpha1` CarbonAwarePolicy: how a namespace's carbon-aware Jobs are held
/// and released. Enum-like fields are kept as the strings the user wrote: the CRD's schema
/// rejects bad values at the API server, and anything that still gets through is reported by
/// ``PolicyResolver`` as a warning, never a decoding failure that would drop the policy.
public struct CarbonAwarePolicy: KubernetesObject, Hashable {
    public static let group = "carbon-aware.io"
    public static let version = "v1alpha1"
    public static let apiVersion = "carbon-aware.io/v1alpha1"
    public static let kind = "CarbonAwarePolicy"
    public static let plural = "carbonawarepolicies"
    /// The policy a Job gets when it names none.
    public static let defaultName = "default"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: CarbonAwarePolicySpec?
    public var status: CarbonAwarePolicyStatus?

    public init(apiVersion: String? = CarbonAwarePolicy.apiVersion, kind: String? = CarbonAwarePolicy.kind, metadata: ObjectMeta, spec: CarbonAwarePolicySpec? = nil, status: CarbonAwarePolicyStatus? = nil) {
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
        spec = try container.decodeIfPresent(CarbonAwarePolicySpec.self, forKey: .spec)
        status = try container.decodeIfPresent(CarbonAwarePolicyStatus.self, forKey: .status)
    }
}

public struct CarbonAwarePolicySpec: Sendable, Hashable, Codable {
    public var maxDelay: String?
    public var region: String?
    public var greenThreshold: Double?
    public var mode: String?
    public var strategy: String?
    public var onSignalUnavailable: String?
    public var greenPool: NodePoolTarget?
    public var fallbackPool: NodePoolTarget?
    public var releaseRatePerMinute: Int?
    public var recheckInterval: String?
    public var estimatedEnergyKWh: Double?

    public init(
        maxDelay: String? = nil, region: String? = nil, greenThreshold: Double? = nil, mode: String? = nil,
        strategy: String? = nil, onSignalUnavailable: String? = nil, greenPool: NodePoolTarget? = nil,
        fallbackPool: NodePoolTarget? = nil, releaseRatePerMinute: Int? = nil, recheckInterval: String? = nil,
        estimatedEnergyKWh: Double? = nil
    ) {
        self.maxDelay = maxDelay
        self.region = region
        self.greenThreshold = greenThreshold
        self.mode = mode
        self.strategy = strategy
        self.onSignalUnavailable = onSignalUnavailable
        self.greenPool = greenPool
        self.fallbackPool = fallbackPool
        self.releaseRatePerMinute = releaseRatePerMinute
        self.recheckInterval = recheckInterval
        self.estimatedEnergyKWh = estimatedEnergyKWh
    }
}

/// A Karpenter NodePool to steer Jobs to, and the taint its nodes carry (which the Job must
/// tolerate to land there).
public struct NodePoolTarget: Sendable, Hashable, Codable {
    public var name: String?
    public var taint: Taint?

    public init(name: String? = nil, taint: Taint? = nil) {
        self.name = name
        self.taint = taint
    }
}

public struct Taint: Sendable, Hashable, Codable {
    public var key: String
    public var value: String?
    public var effect: String?

    public init(key: String, value: String? = nil, effect: String? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}

public struct CarbonAwarePolicyStatus: Sendable, Hashable, Codable {
    public var observedGeneration: Int64?
    public var heldJobs: Int?
    public var conditions: [Condition]?

    public init(observedGeneration: Int64? = nil, heldJobs: Int? = nil, conditions: [Condition]? = nil) {
        self.observedGeneration = observedGeneration
        self.heldJobs = heldJobs
        self.conditions = conditions
    }
}

/// Whether the chosen pool is a preference (Karpenter may relax it) or a requirement.
public enum SchedulingMode: String, Sendable, Hashable, Codable, CaseIterable {
    case prefer
    case strict
}

/// When a held Job is released for carbon reasons.
public enum ReleaseStrategy: String, Sendable, Hashable, Codable, CaseIterable {
    /// At the first moment the grid is green.
    case firstGreen
    /// At the start of the lowest-intensity forecast slot before the deadline.
    case forecast
}

/// What admission does when it cannot learn whether the grid is green.
public enum SignalUnavailablePolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Let the Job run now, on the fallback pool: a signal outage never delays work.
    case run
    /// Hold the Job as if the grid were not green; the deadline still bounds the wait.
    case wait
}
