public import Foundation
import KarbonetesCarbon
public import KarbonetesModels

/// One configured region: its name and the provider that answers for it.
public struct RegionProvider: Sendable {
    public var name: String
    public var provider: any CarbonProvider

    public init(name: String, provider: any CarbonProvider) {
        self.name = name
        self.provider = provider
    }
}

/// The service's answers, transport aside: the contract's four questions plus the demo
/// override, every one either a value or a ``SignalErrorBody`` (never a made-up value).
public struct SignalEngine: Sendable {
    public let regions: SignalRegions
    public let cache: SignalCache
    public let clock: any WallClock
    private let overrides = OverrideStore()

    public init(
        regions: [RegionProvider],
        settings: CacheSettings,
        clock: any WallClock,
        onFetch: @escaping @Sendable (FetchEvent) -> Void = { _ in }
    ) {
        self.regions = SignalRegions(regions: regions.map { SignalRegion(name: $0.name, provider: $0.provider.kind) })
        var providers: [String: any CarbonProvider] = [:]
        for region in regions { providers[region.name] = region.provider }
        self.cache = SignalCache(providers: providers, settings: settings, clock: clock, onFetch: onFetch)
        self.clock = clock
    }

    private func cached(_ region: String) async throws -> CachedValue {
        do {
            return try await cache.value(for: region)
        } catch let miss as CacheMissError {
            if miss.isUnknownRegion { throw SignalErrorBody(code: .unknownRegion, message: miss.description) }
            throw SignalErrorBody(code: .unavailable, message: miss.description)
        }
    }

    private func requireKnown(_ region: String) throws {
        guard regions.regions.contains(where: { $0.name == region }) else {
            throw SignalErrorBody(code: .unknownRegion, message: "unknown region \"\(region)\"")
        }
    }

    /// `GET /v1/signal`: the reading now, from the cache, with the demo override on top.
    public func signal(region: String) async throws -> CarbonSignal {
        try requireKnown(region)
        let now = clock.now()
        if let demo = overrides.current(region: region) {
            // A demo override answers even while the provider is down, if it says the intensity.
            let reading = (try? await cached(region)).map { $0.snapshot.reading(at: now) }
            guard let intensity = demo.override.intensity ?? reading?.intensity else {
                throw SignalErrorBody(
                    code: .unavailable,
                    message: "region \(region) has a demo override without an intensity and no signal from its provider"
                )
            }
            return CarbonSignal(
                region: region,
                intensity: intensity,
                green: demo.override.green,
                rule: "demo override (green=\(demo.override.green))",
                windowStart: demo.setAt,
                windowEnd: now.addingTimeInterval(cache.settings.ttl),
                nextGreenStart: demo.override.green ? nil : reading?.nextGreenStart,
                observedAt: demo.setAt,
                source: "override",
                stale: false,
                ageSeconds: (max(0, now.timeIntervalSince(demo.setAt)) * 1000).rounded() / 1000
            )
        }
        let value = try await cached(region)
        let reading = value.snapshot.reading(at: now)
        return CarbonSignal(
            region: region,
            intensity: reading.intensity,
            green: reading.green,
            rule: reading.rule,
            threshold: reading.threshold,
            windowStart: reading.windowStart,
            windowEnd: reading.windowEnd,
            nextGreenStart: reading.nextGreenStart,
            observedAt: value.snapshot.observedAt,
            source: value.snapshot.source,
            stale: value.stale,
            ageSeconds: (value.age * 1000).rounded() / 1000
        )
    }

    /// `GET /v1/forecast`: the slots overlapping the next `hours` hours that the provider knows.
    public func forecast(region: String, hours: Int) async throws -> CarbonForecast {
        try requireKnown(region)
        guard (1...SignalAPI.maximumForecastHours).contains(hours) else {
            throw SignalErrorBody(
                code: .badRequest,
                message: "hours must be between 1 and \(SignalAPI.maximumForecastHours), not \(hours)")
        }
        let value = try await cached(region)
        let now = clock.now()
        let horizon = now.addingTimeInterval(TimeInterval(hours) * 3600)
        let points = value.snapshot.forecast.filter { $0.end > now && $0.start < horizon }
        guard !points.isEmpty else {
            throw SignalErrorBody(
                code: .unavailable,
                message:
                    "provider \(value.snapshot.source) has no forecast for region \(region) after \(RFC3339.format(now))"
            )
        }
        return CarbonForecast(
            region: region, generatedAt: value.snapshot.observedAt, source: value.snapshot.source, points: points)
    }

    /// `GET /v1/best-window`: the start in [notBefore, notAfter] minimising the mean intensity
    /// over `duration`, over the forecast the provider gave (exact, as a step function).
    public func bestWindow(region: String, notBefore: Date, notAfter: Date, duration: GoDuration) async throws
        -> BestWindow
    {
        try requireKnown(region)
        let now = clock.now()
        guard duration.nanoseconds > 0 else {
            throw SignalErrorBody(code: .badRequest, message: "duration must be positive, not \(duration)")
        }
        guard notBefore <= notAfter else {
            throw SignalErrorBody(
                code: .badRequest,
                message: "notBefore \(RFC3339.format(notBefore)) is after notAfter \(RFC3339.format(notAfter))")
        }
        guard notAfter >= now else {
            throw SignalErrorBody(
                code: .badRequest,
                message:
                    "notAfter \(RFC3339.format(notAfter)) is in the past: the forecast starts now (\(RFC3339.format(now)))"
            )
        }
        let horizon = now.addingTimeInterval(TimeInterval(SignalAPI.maximumForecastHours) * 3600)
        guard notAfter.addingTimeInterval(duration.timeInterval) <= horizon else {
            throw SignalErrorBody(
                code: .badRequest,
                message:
                    "notAfter + duration is past the \(SignalAPI.maximumForecastHours)h forecast horizon (\(RFC3339.format(horizon)))"
            )
        }
        let value = try await cached(region)
        guard let trace = ForecastTrace.make(from: value.snapshot.forecast, source: value.snapshot.source),
            let window = trace.bestWindow(
                duration: duration.timeInterval, notBefore: max(notBefore, now), notAfter: notAfter)
        else {
            throw SignalErrorBody(
                code: .unavailable,
                message:
                    "the forecast of region \(region) does not cover a \(duration) window starting in [\(RFC3339.format(notBefore)), \(RFC3339.format(notAfter))]"
            )
        }
        return BestWindow(
            region: region, start: window.start, end: window.end, meanIntensity: window.meanIntensity,
            notBefore: notBefore,
            notAfter: notAfter, duration: duration.description)
    }

    /// `PUT /v1/override`: forces the region's `green` until cleared (demo only).
    public func setOverride(_ override: SignalOverride) throws {
        try requireKnown(override.region)
        if let intensity = override.intensity, !(intensity.isFinite && intensity >= 0) {
            throw SignalErrorBody(code: .badRequest, message: "override intensity must be a non-negative number")
        }
        let now = clock.now()
        overrides.set(override, at: now)
    }

    /// `DELETE /v1/override`.
    public func clearOverride(region: String) throws {
        try requireKnown(region)
        overrides.clear(region: region)
    }

    /// Ready once every region has had one good value, so a replica whose provider never
    /// answered gets no traffic.
    public func isReady() async -> Bool { await cache.hasValueForEveryRegion() }
}

/// A forecast as a step-function trace, for exact interval means and the best window.
enum ForecastTrace {
    /// The trace of the first contiguous run of `points` (a gap would otherwise be read as
    /// the previous slot's intensity continuing); nil when there are none.
    static func make(from points: [ForecastPoint], source: String) -> CarbonTrace? {
        guard let first = points.first else { return nil }
        var run = [first]
        for point in points.dropFirst() {
            guard point.start == run[run.count - 1].end else { break }
            run.append(point)
        }
        let last = run[run.count - 1]
        return try? CarbonTrace(
            points: run.map { IntensityPoint(time: $0.start, intensity: $0.intensity) },
            step: last.end.timeIntervalSince(last.start),
            source: source
        )
    }
}
