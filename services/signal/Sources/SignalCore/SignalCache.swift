public import Foundation
import KarbonetesLocks

/// How long values are fresh, how long a stale one may still be served, and how soon a failed
/// provider is asked again.
public struct CacheSettings: Sendable, Hashable {
    /// A value younger than this is served without asking the provider.
    public var ttl: TimeInterval
    /// When the provider fails, the last good value is served, marked stale, until it is this
    /// old; after that the answer is 503.
    public var staleLimit: TimeInterval
    /// After a failed fetch, the provider is not asked again for this long (or for as long as a
    /// 429's `Retry-After` says, if longer), so a down provider is not hammered by requests.
    public var failureBackoff: TimeInterval

    public init(ttl: TimeInterval = 30, staleLimit: TimeInterval = 900, failureBackoff: TimeInterval = 5) {
        self.ttl = ttl
        self.staleLimit = staleLimit
        self.failureBackoff = failureBackoff
    }
}

/// A value the cache serves, with how old it is.
public struct CachedValue: Sendable, Hashable {
    public var snapshot: ProviderSnapshot
    public var fetchedAt: Date
    /// Seconds since `fetchedAt`.
    public var age: TimeInterval
    /// True when the value is past its TTL or its window and could not be refreshed.
    public var stale: Bool
}

/// One provider call, for metrics and logs.
public struct FetchEvent: Sendable {
    public var region: String
    public var provider: String
    public var succeeded: Bool
    /// The failure's description; never contains a credential (adapters do not put them in errors).
    public var error: String?
    public var snapshot: ProviderSnapshot?
}

/// Why the cache has nothing to serve, naming the region.
public struct CacheMissError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case unknownRegion
        case neverFetched(String?)
        case tooStale(age: TimeInterval, limit: TimeInterval, String?)
    }

    private let kind: Kind
    public let region: String

    private init(_ kind: Kind, region: String) {
        self.kind = kind
        self.region = region
    }

    static func unknownRegion(_ region: String) -> CacheMissError { CacheMissError(.unknownRegion, region: region) }
    static func neverFetched(_ region: String, lastError: String?) -> CacheMissError {
        CacheMissError(.neverFetched(lastError), region: region)
    }
    static func tooStale(_ region: String, age: TimeInterval, limit: TimeInterval, lastError: String?) -> CacheMissError
    {
        CacheMissError(.tooStale(age: age, limit: limit, lastError), region: region)
    }

    public var isUnknownRegion: Bool {
        if case .unknownRegion = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .unknownRegion:
            return "unknown region \"\(region)\""
        case .neverFetched(let error):
            return "no carbon signal for region \(region) yet" + (error.map { ": \($0)" } ?? "")
        case .tooStale(let age, let limit, let error):
            return "the last signal for region \(region) is \(Int(age))s old, over the \(Int(limit))s stale limit"
                + (error.map { ": \($0)" } ?? "")
        }
    }
}

/// Per-region cache in front of the providers: serves fresh values without calling the
/// provider, refreshes expired ones (one call per region at a time, however many requests
/// wait), and when the provider fails serves the last good value marked stale until it is
/// `staleLimit` old. Every age comes from the injected clock.
public actor SignalCache {
    private struct Entry {
        var value: (snapshot: ProviderSnapshot, fetchedAt: Date)?
        var lastError: String?
        var nextAttempt: Date = .distantPast
        /// The fetch in progress, which every request for the region waits on.
        var inFlight: Task<Void, Never>?
    }

    public nonisolated let settings: CacheSettings
    private let providers: [String: any CarbonProvider]
    private let clock: any WallClock
    private let onFetch: @Sendable (FetchEvent) -> Void
    private var entries: [String: Entry] = [:]
    /// The last good value per region, readable without entering the actor, so a request for a
    /// fresh value costs one shared (reader-writer) lock and no executor hop.
    private let lastGood = ReadWriteLock<[String: (snapshot: ProviderSnapshot, fetchedAt: Date)]>([:])

    public init(
        providers: [String: any CarbonProvider],
        settings: CacheSettings,
        clock: any WallClock,
        onFetch: @escaping @Sendable (FetchEvent) -> Void = { _ in }
    ) {
        self.providers = providers
        self.settings = settings
        self.clock = clock
        self.onFetch = onFetch
    }

    /// The value to serve for `region`, fetching first when it is expired (unless the provider
    /// failed within its backoff).
    public nonisolated func value(for region: String) async throws -> CachedValue {
        let now = clock.now()
        if let value = lastGood.read({ $0[region] }), now < expiry(of: value) {
            return CachedValue(
                snapshot: value.snapshot, fetchedAt: value.fetchedAt,
                age: max(0, now.timeIntervalSince(value.fetchedAt)), stale: false)
        }
        return try await expiredValue(for: region)
    }

    private func expiredValue(for region: String) async throws -> CachedValue {
        guard providers[region] != nil else { throw CacheMissError.unknownRegion(region) }
        let now = clock.now()
        if let fresh = freshValue(region, now: now) { return fresh }
        if now >= entries[region, default: Entry()].nextAttempt {
            await fetch(region)
        }
        return try servable(region, now: clock.now())
    }

    /// Fetches `region` now (joining a fetch already in progress), whatever the TTL says.
    public func refresh(_ region: String) async {
        guard providers[region] != nil else { return }
        await fetch(region)
    }

    /// The regions a background refresher should fetch now so that requests keep finding fresh
    /// values: those with no value, or expiring within `lead` seconds, and not backing off.
    public func regionsDue(within lead: TimeInterval) -> [String] {
        let now = clock.now()
        return providers.keys.sorted().filter { region in
            let entry = entries[region, default: Entry()]
            guard now >= entry.nextAttempt, entry.inFlight == nil else { return false }
            guard let value = entry.value else { return true }
            return expiry(of: value) <= now.addingTimeInterval(lead)
        }
    }

    /// Whether every region has had a good value at least once.
    public func hasValueForEveryRegion() -> Bool {
        providers.keys.allSatisfy { entries[$0]?.value != nil }
    }

    private nonisolated func expiry(of value: (snapshot: ProviderSnapshot, fetchedAt: Date)) -> Date {
        let byTTL = value.fetchedAt.addingTimeInterval(settings.ttl)
        guard let validUntil = value.snapshot.validUntil else { return byTTL }
        return min(byTTL, validUntil)
    }

    private func freshValue(_ region: String, now: Date) -> CachedValue? {
        guard let value = entries[region]?.value, now < expiry(of: value) else { return nil }
        return CachedValue(
            snapshot: value.snapshot, fetchedAt: value.fetchedAt, age: max(0, now.timeIntervalSince(value.fetchedAt)),
            stale: false)
    }

    private func servable(_ region: String, now: Date) throws -> CachedValue {
        if let fresh = freshValue(region, now: now) { return fresh }
        let entry = entries[region, default: Entry()]
        guard let value = entry.value else { throw CacheMissError.neverFetched(region, lastError: entry.lastError) }
        let age = max(0, now.timeIntervalSince(value.fetchedAt))
        guard age <= settings.staleLimit else {
            throw CacheMissError.tooStale(region, age: age, limit: settings.staleLimit, lastError: entry.lastError)
        }
        return CachedValue(snapshot: value.snapshot, fetchedAt: value.fetchedAt, age: age, stale: true)
    }

    private func fetch(_ region: String) async {
        if let running = entries[region]?.inFlight {
            await running.value
            return
        }
        // An unstructured task on purpose: it is shared by every request waiting for this
        // region, so that one request being cancelled does not cancel the others' fetch.
        let task = Task { await self.performFetch(region) }
        entries[region, default: Entry()].inFlight = task
        await task.value
    }

    private func performFetch(_ region: String) async {
        guard let provider = providers[region] else { return }
        defer { entries[region, default: Entry()].inFlight = nil }
        do {
            let snapshot = try await provider.fetch(now: clock.now())
            let now = clock.now()
            entries[region, default: Entry()].value = (snapshot, now)
            lastGood.write { $0[region] = (snapshot, now) }
            entries[region, default: Entry()].lastError = nil
            entries[region, default: Entry()].nextAttempt = .distantPast
            onFetch(
                FetchEvent(region: region, provider: provider.kind, succeeded: true, error: nil, snapshot: snapshot))
        } catch {
            let now = clock.now()
            let wait = max(settings.failureBackoff, (error as? ProviderError)?.retryAfter ?? 0)
            entries[region, default: Entry()].lastError = "\(error)"
            entries[region, default: Entry()].nextAttempt = now.addingTimeInterval(wait)
            onFetch(
                FetchEvent(region: region, provider: provider.kind, succeeded: false, error: "\(error)", snapshot: nil))
        }
    }
}
