public import Foundation

/// `batch/v1` CronJob: users put the carbon-aware annotations on `spec.jobTemplate.metadata`,
/// and the CronJob controller copies them onto every Job it creates.
public struct CronJob: KubernetesObject, Hashable {
    public static let apiVersion = "batch/v1"
    public static let kind = "CronJob"

    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: CronJobSpec?
    public var status: CronJobStatus?

    public init(apiVersion: String? = CronJob.apiVersion, kind: String? = CronJob.kind, metadata: ObjectMeta, spec: CronJobSpec? = nil, status: CronJobStatus? = nil) {
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
        spec = try container.decodeIfPresent(CronJobSpec.self, forKey: .spec)
        status = try container.decodeIfPresent(CronJobStatus.self, forKey: .status)
    }
}

public struct CronJobSpec: Sendable, Hashable, Codable {
    public var schedule: String?
    public var timeZone: String?
    public var suspend: Bool?
    public var concurrencyPolicy: String?
    public var startingDeadlineSeconds: Int64?
    public var jobTemplate: JobTemplateSpec?

    public init(schedule: String? = nil, timeZone: String? = nil, suspend: Bool? = nil, concurrencyPolicy: String? = nil, startingDeadlineSeconds: Int64? = nil, jobTemplate: JobTemplateSpec? = nil) {
        self.schedule = schedule
        self.timeZone = timeZone
        self.suspend = suspend
        self.concurrencyPolicy = concurrencyPolicy
        self.startingDeadlineSeconds = startingDeadlineSeconds
        self.jobTemplate = jobTemplate
    }
}

public struct JobTemplateSpec: Sendable, Hashable, Codable {
    public var metadata: ObjectMeta?
    public var spec: JobSpec?

    public init(metadata: ObjectMeta? = nil, spec: JobSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct CronJobStatus: Sendable, Hashable, Codable {
    public var lastScheduleTime: Date?
    public var lastSuccessfulTime: Date?
    public var active: [ObjectReference]?

    public init(lastScheduleTime: Date? = nil, lastSuccessfulTime: Date? = nil, active: [ObjectReference]? = nil) {
        self.lastScheduleTime = lastScheduleTime
        self.lastSuccessfulTime = lastSuccessfulTime
        self.active = active
    }
}
