import Foundation
public import KarbonetesModels

/// The config file (`--config`), as written: the deploy chart documents this format.
///
/// ```yaml
/// cacheTTL: 30s
/// staleLimit: 15m
/// regions:
///   - name: default
///     provider: static
///     timeZone: Europe/Madrid
///     windows: [{start: "10:00", end: "16:00", weekdays: [mon, tue, wed, thu, fri]}]
///     greenIntensity: 120
///     otherIntensity: 380
/// ```
public struct SignalConfiguration: Sendable, Decodable {
    public var cacheTTL: GoDuration?
    public var staleLimit: GoDuration?
    public var regions: [RegionConfiguration]

    public init(cacheTTL: GoDuration? = nil, staleLimit: GoDuration? = nil, regions: [RegionConfiguration]) {
        self.cacheTTL = cacheTTL
        self.staleLimit = staleLimit
        self.regions = regions
    }

    /// What runs with no `--config`: the static mock for region `default`.
    public static let builtIn = SignalConfiguration(regions: [RegionConfiguration(name: "default", provider: "static")])

    /// The cache settings, with the defaults (30s TTL, 15m stale limit) where unset.
    public func cacheSettings() throws -> CacheSettings {
        let ttl = cacheTTL?.timeInterval ?? 30
        let stale = staleLimit?.timeInterval ?? 900
        guard ttl > 0 else { throw SignalConfigurationError.invalid(field: "cacheTTL", reason: "must be positive") }
        guard stale >= 0 else {
            throw SignalConfigurationError.invalid(field: "staleLimit", reason: "must not be negative")
        }
        return CacheSettings(ttl: ttl, staleLimit: stale, failureBackoff: min(5, ttl))
    }

    /// Checks what can be checked without reading files: names, providers, duplicates.
    public func validate() throws {
        guard !regions.isEmpty else {
            throw SignalConfigurationError.invalid(field: "regions", reason: "lists no region")
        }
        var seen: Set<String> = []
        for region in regions {
            guard !region.name.isEmpty else {
                throw SignalConfigurationError.invalid(field: "regions[].name", reason: "is empty")
            }
            guard seen.insert(region.name).inserted else {
                throw SignalConfigurationError.invalid(
                    region: region.name, field: "name", reason: "is used by two regions")
            }
            guard RegionConfiguration.providerKinds.contains(region.provider) else {
                throw SignalConfigurationError.invalid(
                    region: region.name, field: "provider",
                    reason:
                        "\"\(region.provider)\" is not one of \(RegionConfiguration.providerKinds.joined(separator: ", "))"
                )
            }
        }
        _ = try cacheSettings()
    }
}

/// One `regions[]` entry: its name, its provider, and that provider's settings (flat, as the
/// chart documents them; each provider reads only its own keys).
public struct RegionConfiguration: Sendable, Decodable {
    /// The `provider:` values the service knows, listed in the error for any other.
    public static let providerKinds = [
        "static", "trace", "electricitymaps", "watttime", "uk-carbon-intensity", "carbon-aware-sdk",
    ]

    public var name: String
    public var provider: String
    // static
    public var timeZone: String?
    public var windows: [WindowConfiguration]?
    public var greenIntensity: Double?
    public var otherIntensity: Double?
    // trace
    public var file: String?
    public var format: String?
    public var column: String?
    public var alignment: String?
    public var offset: GoDuration?
    public var speedup: Double?
    /// For trace and the real providers: `{threshold: N}` or `{percentile: P}`.
    public var green: GreenConfiguration?
    // electricitymaps
    public var zone: String?
    public var tokenFile: String?
    public var tokenEnv: String?
    public var baseURL: String?
    // watttime
    public var region: String?
    public var usernameFile: String?
    public var passwordFile: String?
    public var usernameEnv: String?
    public var passwordEnv: String?
    // carbon-aware-sdk
    public var location: String?

    public init(name: String, provider: String) {
        self.name = name
        self.provider = provider
    }

    /// The static schedule; the built-in mock's values where a key is missing.
    public func staticSchedule() throws -> StaticSchedule {
        let fallback = StaticSchedule.builtInDefault
        let zoneName = timeZone ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw SignalConfigurationError.invalid(
                region: name, field: "timeZone", reason: StaticScheduleError.badTimeZone(zoneName).description)
        }
        var parsed: [DailyWindow] = []
        if let windows {
            for (index, window) in windows.enumerated() {
                do {
                    let weekdays = try Set(
                        (window.weekdays ?? []).map { text throws(StaticScheduleError) -> Weekday in
                            guard let day = Weekday(spelling: text) else { throw .badWeekday(text) }
                            return day
                        })
                    parsed.append(
                        try DailyWindow(
                            start: LocalTime(parsing: window.start), end: LocalTime(parsing: window.end),
                            weekdays: weekdays))
                } catch {
                    throw SignalConfigurationError.invalid(
                        region: name, field: "windows[\(index)]", reason: error.description)
                }
            }
        } else {
            parsed = fallback.windows
        }
        let green = greenIntensity ?? fallback.greenIntensity
        let other = otherIntensity ?? fallback.otherIntensity
        for (field, value) in [("greenIntensity", green), ("otherIntensity", other)]
        where !(value.isFinite && value >= 0) {
            throw SignalConfigurationError.invalid(region: name, field: field, reason: "must be a non-negative number")
        }
        return StaticSchedule(
            timeZone: zone, timeZoneName: zoneName, windows: parsed, greenIntensity: green, otherIntensity: other)
    }

    /// The trace settings other than the file's contents.
    public func traceAlignment() throws -> TraceAlignment {
        switch alignment ?? (offset == nil ? "sameTimeOfYear" : "offset") {
        case "sameTimeOfYear": return .sameTimeOfYear
        case "offset":
            guard let offset else {
                throw SignalConfigurationError.invalid(
                    region: name, field: "offset", reason: "is required with alignment: offset")
            }
            return .offset(offset.timeInterval)
        case let other:
            throw SignalConfigurationError.invalid(
                region: name, field: "alignment", reason: "\"\(other)\" is not sameTimeOfYear or offset")
        }
    }

    /// The green rule; `fallback` when the region sets none.
    public func greenRule(fallback: GreenRule) throws -> GreenRule {
        guard let green else { return fallback }
        switch (green.threshold, green.percentile) {
        case (let threshold?, nil) where threshold.isFinite && threshold >= 0: return .threshold(threshold)
        case (nil, let percentile?) where (0...100).contains(percentile): return .percentile(percentile)
        default:
            throw SignalConfigurationError.invalid(
                region: name, field: "green",
                reason: "write {threshold: N} (gCO2eq/kWh) or {percentile: P} (0 to 100), one of the two")
        }
    }
}

/// A `windows[]` entry as written; ``RegionConfiguration/staticSchedule()`` checks it, so errors
/// can name the region and the index.
public struct WindowConfiguration: Sendable, Decodable, Hashable {
    public var start: String
    public var end: String
    public var weekdays: [String]?

    public init(start: String, end: String, weekdays: [String]? = nil) {
        self.start = start
        self.end = end
        self.weekdays = weekdays
    }
}

/// `green: {threshold: N}` or `green: {percentile: P}`, as written; exactly one must be set.
public struct GreenConfiguration: Sendable, Decodable, Hashable {
    public var threshold: Double?
    public var percentile: Double?

    public init(threshold: Double? = nil, percentile: Double? = nil) {
        self.threshold = threshold
        self.percentile = percentile
    }
}

/// A config value that is wrong, naming the region and the key.
public struct SignalConfigurationError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case invalid(region: String?, field: String, reason: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    public static func invalid(region: String? = nil, field: String, reason: String) -> SignalConfigurationError {
        SignalConfigurationError(.invalid(region: region, field: field, reason: reason))
    }

    public var description: String {
        switch kind {
        case .invalid(let region?, let field, let reason): return "region \(region): \(field) \(reason)"
        case .invalid(nil, let field, let reason): return "\(field) \(reason)"
        }
    }
}
