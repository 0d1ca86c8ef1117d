public import Foundation

/// The carbon signal HTTP contract (`/v1`), shared by the signal service and its two clients
/// (webhook and controller). Times are RFC 3339 UTC; intensities are gCO2eq/kWh. The service
/// never makes a value up: when it does not know, it answers an error.
public enum SignalAPI {
    public static let signalPath = "/v1/signal"
    public static let forecastPath = "/v1/forecast"
    public static let bestWindowPath = "/v1/best-window"
    public static let regionsPath = "/v1/regions"
    public static let overridePath = "/v1/override"
    public static let openAPIPath = "/openapi.yaml"
    /// The Carbon Aware SDK's path, served in its own JSON shape for the SDK's clients.
    public static let carbonAwareSDKForecastPath = "/emissions/forecasts/current"

    public enum Query {
        public static let region = "region"
        public static let hours = "hours"
        public static let notBefore = "notBefore"
        public static let notAfter = "notAfter"
        public static let duration = "duration"
    }

    /// The longest forecast horizon a client may ask for.
    public static let maximumForecastHours = 168
}

/// `GET /v1/signal?region=R`: whether the grid is green now.
public struct CarbonSignal: Sendable, Hashable, Codable {
    public var region: String
    public var intensity: Double
    public var green: Bool
    /// The rule that decided `green`, for people: `"static window 10:00-16:00 Europe/Madrid"`,
    /// `"intensity <= 150"`, `"lowest 30% of the next 24h"`.
    public var rule: String
    /// The threshold in gCO2eq/kWh, when a threshold decided.
    public var threshold: Double?
    /// The current window (green or not): when the answer last changed and will next change.
    public var windowStart: Date
    public var windowEnd: Date
    public var nextGreenStart: Date?
    public var observedAt: Date
    public var source: String
    public var stale: Bool
    public var ageSeconds: Double

    public init(
        region: String, intensity: Double, green: Bool, rule: String, threshold: Double? = nil, windowStart: Date,
        windowEnd: Date, nextGreenStart: Date? = nil, observedAt: Date, source: String, stale: Bool = false,
        ageSeconds: Double = 0
    ) {
        self.region = region
        self.intensity = intensity
        self.green = green
        self.rule = rule
        self.threshold = threshold
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.nextGreenStart = nextGreenStart
        self.observedAt = observedAt
        self.source = source
        self.stale = stale
        self.ageSeconds = ageSeconds
    }
}

/// One slot of a forecast.
public struct ForecastPoint: Sendable, Hashable, Codable {
    public var start: Date
    public var end: Date
    public var intensity: Double
    public var green: Bool

    public init(start: Date, end: Date, intensity: Double, green: Bool) {
        self.start = start
        self.end = end
        self.intensity = intensity
        self.green = green
    }
}

/// `GET /v1/forecast?region=R&hours=N`.
public struct CarbonForecast: Sendable, Hashable, Codable {
    public var region: String
    public var generatedAt: Date
    public var source: String
    public var points: [ForecastPoint]

    public init(region: String, generatedAt: Date, source: String, points: [ForecastPoint]) {
        self.region = region
        self.generatedAt = generatedAt
        self.source = source
        self.points = points
    }
}

/// `GET /v1/best-window?region=R&notBefore=T1&notAfter=T2&duration=D`: the start in
/// [notBefore, notAfter] minimising the mean intensity over `duration`.
public struct BestWindow: Sendable, Hashable, Codable {
    public var region: String
    public var start: Date
    public var end: Date
    public var meanIntensity: Double
    public var notBefore: Date
    public var notAfter: Date
    /// Go duration spelling, as asked.
    public var duration: String

    public init(region: String, start: Date, end: Date, meanIntensity: Double, notBefore: Date, notAfter: Date, duration: String) {
        self.region = region
        self.start = start
        self.end = end
        self.meanIntensity = meanIntensity
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.duration = duration
    }
}

public struct SignalRegion: Sendable, Hashable, Codable {
    public var name: String
    public var provider: String

    public init(name: String, provider: String) {
        self.name = name
        self.provider = provider
    }
}

/// `GET /v1/regions`.
public struct SignalRegions: Sendable, Hashable, Codable {
    public var regions: [SignalRegion]

    public init(regions: [SignalRegion]) { self.regions = regions }
}

/// `PUT /v1/override` (demo only, behind `--enable-demo-override`).
public struct SignalOverride: Sendable, Hashable, Codable {
    public var region: String
    public var green: Bool
    public var intensity: Double?

    public init(region: String, green: Bool, intensity: Double? = nil) {
        self.region = region
        self.green = green
        self.intensity = intensity
    }
}

/// Every error body: `{code, message}`. `code` is one of ``SignalErrorCode``.
public struct SignalErrorBody: Sendable, Hashable, Codable, Error, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: SignalErrorCode, message: String) {
        self.code = code.rawValue
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

public enum SignalErrorCode: String, Sendable, Hashable, Codable, CaseIterable {
    /// 404: no such region.
    case unknownRegion = "unknown_region"
    /// 400: a query parameter is missing or malformed.
    case badRequest = "bad_request"
    /// 503: the provider is down and nothing usable is cached.
    case unavailable
    /// 404: no such path.
    case notFound = "not_found"
    /// 405.
    case methodNotAllowed = "method_not_allowed"
    /// 403: the demo override is not enabled.
    case forbidden

    public var httpStatus: Int {
        switch self {
        case .unknownRegion, .notFound: return 404
        case .badRequest: return 400
        case .unavailable: return 503
        case .methodNotAllowed: return 405
        case .forbidden: return 403
        }
    }
}
