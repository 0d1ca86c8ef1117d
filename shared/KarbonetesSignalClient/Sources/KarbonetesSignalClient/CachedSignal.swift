public import Foundation
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesModels
import KarbonetesLocks

/// A per-region cache of the current signal (and, on request, the forecast).
///
/// Readers get the cached value while it is younger than `ttl`; a background refresh (``run()``)
/// keeps every region that was asked for fresh, so in the steady state no reader waits on the
/// network. When the service fails, the last good value is served until it is `staleLimit`
/// old, then the reading is `unavailable`: a made-up "green" is never returned.
public actor CachedSignal: Service {
    public struct Settings: Sendable {
        public var ttl: Duration
        public var staleLimit: Duration
        public var forecastHours: Int

        public init(ttl: Duration = .seconds(5), staleLimit: Duration = .seconds(300), forecastHours: Int = 48) {
            self.ttl = ttl
            self.staleLimit = staleLimit
            self.forecastHours = forecastHours
        }
    }

    private struct Entry<Value: Sendable> {
        var value: Value?
        var fetchedAt: Date?
        var lastError: String?
        var inFlight: Task<Void, Never>?
    }

    private let fetcher: any SignalFetching
    private let settings: Settings
    private let logger: Logger
    private let now: @Sendable () -> Date
    private var signals: [String: Entry<CarbonSignal>] = [:]
    private var forecasts: [String: Entry<CarbonForecast>] = [:]
    private var forecastRegions: Set<String> = []
    /// The last good signal per region and when it was fetched, readable without entering the
    /// actor: the webhook reads it on every admission from its connection's thread, and a hop
    /// to the actor and back there cost more than the decision. Behind a reader-writer lock:
    /// with a `Mutex` the readers themselves contended.
    private let published = ReadWriteLock<[String: (value: CarbonSignal, fetchedAt: Date)]>([:])

    public init(fetcher: any SignalFetching, settings: Settings = Settings(), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.fetcher = fetcher
        self.settings = settings
        self.logger = logger
        self.now = now
    }

    /// The current reading for a region: fresh or stale-within-limit cache, else one fetch.
    public nonisolated func reading(region: String) async -> SignalReading {
        if let fresh = published.read({ $0[region] }), now().timeIntervalSince(fresh.fetchedAt) < seconds(settings.ttl) {
            return .available(fresh.value)
        }
        return await refreshedReading(region: region)
    }

    private func refreshedReading(region: String) async -> SignalReading {
        if let entry = signals[region], let value = entry.value, let fetchedAt = entry.fetchedAt, age(fetchedAt) < seconds(settings.ttl) {
            return .available(value)
        }
        await refreshSignal(region)
        return cachedReading(region)
    }

    /// The forecast for a region, cached like the signal; `nil` when none could be had.
    public func forecast(region: String) async -> [ForecastPoint]? {
        forecastRegions.insert(region)
        if let entry = forecasts[region], let value = entry.value, let fetchedAt = entry.fetchedAt, age(fetchedAt) < seconds(settings.ttl) {
            return value.points
        }
        await refreshForecast(region)
        guard let entry = forecasts[region], let value = entry.value, let fetchedAt = entry.fetchedAt, age(fetchedAt) < seconds(settings.staleLimit) else {
            return nil
        }
        return value.points
    }

    /// Seconds since the region's signal was last fetched successfully, for the cache-age metric.
    public func cacheAge(region: String) -> Double? {
        signals[region]?.fetchedAt.map(age)
    }

    /// The regions asked for so far.
    public var regions: [String] { Array(signals.keys).sorted() }

    /// Refreshes every known region each half TTL until cancelled.
    public func run() async throws {
        let interval = settings.ttl / 2
        while !Task.isCancelled {
            for region in signals.keys { await refreshSignal(region) }
            for region in forecastRegions { await refreshForecast(region) }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    private func cachedReading(_ region: String) -> SignalReading {
        guard let entry = signals[region] else { return .unavailable(reason: "no signal fetched yet") }
        if let value = entry.value, let fetchedAt = entry.fetchedAt {
            let ageSeconds = age(fetchedAt)
            if ageSeconds < seconds(settings.ttl) { return .available(value) }
            if ageSeconds < seconds(settings.staleLimit) {
                var stale = value
                stale.stale = true
                stale.ageSeconds = value.ageSeconds + ageSeconds
                return .available(stale)
            }
            return .unavailable(reason: "last signal is \(Int(ageSeconds))s old, past the stale limit; \(entry.lastError ?? "refresh failed")")
        }
        return .unavailable(reason: entry.lastError ?? "no signal")
    }

    /// One fetch per region at a time: concurrent readers wait for the same one.
    private func refreshSignal(_ region: String) async {
        if let inFlight = signals[region]?.inFlight {
            await inFlight.value
            return
        }
        let fetcher = self.fetcher
        let task = Task<Void, Never> {
            do {
                let value = try await fetcher.signal(region: region)
                self.storeSignal(region, value: value, error: nil)
            } catch {
                self.storeSignal(region, value: nil, error: String(describing: error))
            }
        }
        signals[region, default: Entry()].inFlight = task
        await task.value
    }

    private func storeSignal(_ region: String, value: CarbonSignal?, error: String?) {
        var entry = signals[region, default: Entry()]
        entry.inFlight = nil
        if let value {
            let fetchedAt = now()
            entry.value = value
            entry.fetchedAt = fetchedAt
            entry.lastError = nil
            published.write { $0[region] = (value, fetchedAt) }
        } else {
            if entry.lastError == nil {
                logger.warning("carbon signal fetch failed", metadata: ["signal.region": region, "error": error ?? ""])
            }
            entry.lastError = error
        }
        signals[region] = entry
    }

    private func refreshForecast(_ region: String) async {
        if let inFlight = forecasts[region]?.inFlight {
            await inFlight.value
            return
        }
        let fetcher = self.fetcher
        let hours = settings.forecastHours
        let task = Task<Void, Never> {
            do {
                let value = try await fetcher.forecast(region: region, hours: hours)
                self.storeForecast(region, value: value, error: nil)
            } catch {
                self.storeForecast(region, value: nil, error: String(describing: error))
            }
        }
        forecasts[region, default: Entry()].inFlight = task
        await task.value
    }

    private func storeForecast(_ region: String, value: CarbonForecast?, error: String?) {
        var entry = forecasts[region, default: Entry()]
        entry.inFlight = nil
        if let value {
            entry.value = value
            entry.fetchedAt = now()
        }
        entry.lastError = error
        forecasts[region] = entry
    }

    private func age(_ date: Date) -> Double { now().timeIntervalSince(date) }

    private nonisolated func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
