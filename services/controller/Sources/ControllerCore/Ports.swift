public import KarbonetesModels

/// Reads held Jobs from the informer's cache (never from the API per reconcile).
public protocol JobCache: Sendable {
    func job(_ key: ObjectKey) -> Job?
    /// The held Jobs (``HeldJobs/isHeld(_:)``), for the held-Jobs gauge and for waking a
    /// region's Jobs; may include others, which callers skip.
    func heldJobs() -> [Job]
}

/// The controller's only writes to Jobs: one JSON patch, and a fresh read after a conflict.
public protocol JobWriter: Sendable {
    /// Returns the written Job's resourceVersion: all the reconciler needs of the answer (the
    /// Event's reference), and reading only it spares a full Job decode per release.
    func patch(_ key: ObjectKey, _ operations: [JSONPatchOperation]) async throws(JobWriteError) -> String?
    func fetch(_ key: ObjectKey) async throws(JobWriteError) -> Job?
}

/// Why a write did not happen, in the terms the reconciler acts on.
public struct JobWriteError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// 409, or a failed `test`/precondition (422): re-read and re-decide.
        case conflict
        /// 404: the Job is gone; nothing to do.
        case notFound
        /// Anything else (5xx, 429, network): retry with backoff.
        case transient
        /// 4xx the API server will answer the same way again.
        case rejected
    }

    public let kind: Kind
    public let key: ObjectKey
    public let message: String

    public init(kind: Kind, key: ObjectKey, message: String) {
        self.kind = kind
        self.key = key
        self.message = message
    }

    public var description: String { "writing Job \(key): \(message)" }
}

/// Where the controller learns whether a region is green and what the forecast says.
public protocol SignalProvider: Sendable {
    func reading(region: String) async -> SignalReading
    func forecast(region: String) async -> [ForecastPoint]?
}

/// Kubernetes Events on Jobs; implementations aggregate repeats.
public protocol EventSink: Sendable {
    func record(_ job: Job, type: EventType, reason: String, message: String) async
}
