public import KarbonetesLifecycle

/// Keeps the cache warm in the background: every `interval` it fetches the regions whose
/// values expire within the next interval, so requests are served from memory.
public struct CacheRefresher: Service, CustomStringConvertible {
    public let cache: SignalCache
    public let interval: Duration
    /// Called after each round (metrics update their gauges from it).
    public let afterRound: @Sendable () async -> Void

    public init(cache: SignalCache, interval: Duration, afterRound: @escaping @Sendable () async -> Void = {}) {
        self.cache = cache
        self.interval = interval
        self.afterRound = afterRound
    }

    public var description: String { "signal cache refresher" }

    /// One round: fetches the due regions concurrently.
    public func refreshDue() async {
        let lead = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let due = await cache.regionsDue(within: lead)
        await withDiscardingTaskGroup { group in
            for region in due {
                group.addTask { await cache.refresh(region) }
            }
        }
        await afterRound()
    }

    /// Rounds until cancelled; returns normally on cancellation (graceful shutdown).
    public func run() async throws {
        while !Task.isCancelled {
            await refreshDue()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
