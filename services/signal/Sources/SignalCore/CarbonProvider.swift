public import Foundation
public import KarbonetesModels

/// A source of carbon intensity for one region: the mock, a trace, or a real provider's API.
///
/// Providers are asked by the cache only, at most once per TTL per region, so an adapter may
/// be slow or rate-limited without the request path noticing.
public protocol CarbonProvider: Sendable {
    /// The `provider:` name in the config file and in `/v1/regions`: `static`, `trace`, ….
    var kind: String { get }

    /// What the provider knows at `now`: the current reading and as much forecast as it has.
    /// Throws when it knows nothing (the cache then serves a stale value or answers 503).
    func fetch(now: Date) async throws -> ProviderSnapshot
}

/// The current state of the grid as one provider reported it.
public struct CurrentReading: Sendable, Hashable {
    public var intensity: Double
    public var green: Bool
    /// For people: what decided `green`.
    public var rule: String
    public var threshold: Double?
    /// The span over which the answer stays the same: from when it last changed to when it
    /// next changes (or the end of the data point, when the provider knows no more).
    public var windowStart: Date
    public var windowEnd: Date
    public var nextGreenStart: Date?

    public init(
        intensity: Double, green: Bool, rule: String, threshold: Double? = nil, windowStart: Date, windowEnd: Date,
        nextGreenStart: Date? = nil
    ) {
        self.intensity = intensity
        self.green = green
        self.rule = rule
        self.threshold = threshold
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.nextGreenStart = nextGreenStart
    }
}

/// One fetch's result: what the cache keeps per region.
public struct ProviderSnapshot: Sendable, Hashable {
    public var current: CurrentReading
    /// Sorted by start, not overlapping; empty when the provider has no forecast.
    public var forecast: [ForecastPoint]
    /// When the provider measured or computed `current`.
    public var observedAt: Date
    /// Who said so, e.g. `static`, `trace:electricitymaps_ES_2022_hourly.csv`, `electricitymaps`.
    public var source: String
    /// The answer changes at this moment (a window's end): the cache fetches again no later,
    /// so a cached value never outlives the window it describes.
    public var validUntil: Date?

    public init(
        current: CurrentReading, forecast: [ForecastPoint], observedAt: Date, source: String, validUntil: Date? = nil
    ) {
        self.current = current
        self.forecast = forecast
        self.observedAt = observedAt
        self.source = source
        self.validUntil = validUntil
    }

    /// The reading for `now`: the current one while `now` is inside its window, else the
    /// forecast slot covering `now` (a stale snapshot still knows what it predicted), else
    /// the last current reading as it was.
    public func reading(at now: Date) -> CurrentReading {
        if now >= current.windowStart && now < current.windowEnd { return current }
        if let derived = GreenSegments.reading(in: forecast, at: now, rule: current.rule, threshold: current.threshold)
        {
            return derived
        }
        return current
    }
}

/// Why a provider could not answer, naming the provider and region.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case unreachable(String)
        case httpStatus(Int, String)
        case rateLimited(retryAfter: TimeInterval?)
        case badResponse(String)
        case noData(String)
        case credentials(String)
    }

    private let kind: Kind
    /// The `provider:` kind, e.g. `electricitymaps`.
    public let provider: String
    public let region: String

    private init(_ kind: Kind, provider: String, region: String) {
        self.kind = kind
        self.provider = provider
        self.region = region
    }

    public static func unreachable(provider: String, region: String, reason: String) -> ProviderError {
        ProviderError(.unreachable(reason), provider: provider, region: region)
    }
    public static func httpStatus(_ status: Int, provider: String, region: String, body: String) -> ProviderError {
        ProviderError(.httpStatus(status, body), provider: provider, region: region)
    }
    public static func rateLimited(provider: String, region: String, retryAfter: TimeInterval?) -> ProviderError {
        ProviderError(.rateLimited(retryAfter: retryAfter), provider: provider, region: region)
    }
    public static func badResponse(provider: String, region: String, reason: String) -> ProviderError {
        ProviderError(.badResponse(reason), provider: provider, region: region)
    }
    public static func noData(provider: String, region: String, reason: String) -> ProviderError {
        ProviderError(.noData(reason), provider: provider, region: region)
    }
    public static func credentials(provider: String, region: String, reason: String) -> ProviderError {
        ProviderError(.credentials(reason), provider: provider, region: region)
    }

    /// How long the provider asked us to wait (HTTP 429 `Retry-After`), if it said.
    public var retryAfter: TimeInterval? {
        if case .rateLimited(let retryAfter) = kind { return retryAfter }
        return nil
    }

    public var isRateLimited: Bool {
        if case .rateLimited = kind { return true }
        return false
    }

    /// The HTTP status the provider answered, when that was the failure.
    public var status: Int? {
        switch kind {
        case .httpStatus(let status, _): return status
        case .rateLimited: return 429
        default: return nil
        }
    }

    public var description: String {
        let subject = "provider \(provider) for region \(region)"
        switch kind {
        case .unreachable(let reason): return "\(subject) is unreachable: \(reason)"
        case .httpStatus(let status, let body):
            return "\(subject) answered HTTP \(status)" + (body.isEmpty ? "" : ": \(body.prefix(200))")
        case .rateLimited(let retryAfter):
            return "\(subject) is rate-limiting us" + (retryAfter.map { " (retry after \(Int($0))s)" } ?? "")
        case .badResponse(let reason): return "\(subject) sent a response we cannot read: \(reason)"
        case .noData(let reason): return "\(subject) has no data: \(reason)"
        case .credentials(let reason): return "\(subject) has no usable credentials: \(reason)"
        }
    }
}
