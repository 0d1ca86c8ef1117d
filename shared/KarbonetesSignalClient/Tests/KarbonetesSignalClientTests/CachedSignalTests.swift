import Foundation
import KarbonetesLogging
import KarbonetesModels
import KarbonetesModelsTestKit
import Synchronization
import Testing
@testable import KarbonetesSignalClient

/// A signal service that answers from a script, counting calls.
final class ScriptedFetcher: SignalFetching {
    let calls = Atomic<Int>(0)
    let failing = Atomic<Bool>(false)
    let base: Date

    init(base: Date) { self.base = base }

    func signal(region: String) async throws -> CarbonSignal {
        calls.add(1, ordering: .relaxed)
        if failing.load(ordering: .relaxed) { throw SignalClientError.answered(503, region: region, message: "provider down") }
        return SignalFixture.green(region: region, at: base)
    }

    func forecast(region: String, hours: Int) async throws -> CarbonForecast {
        if failing.load(ordering: .relaxed) { throw SignalClientError.answered(503, region: region, message: "provider down") }
        return CarbonForecast(region: region, generatedAt: base, source: "test", points: [ForecastPoint(start: base, end: base.addingTimeInterval(3600), intensity: 100, green: true)])
    }
}

final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var now: Date { current.withLock { $0 } }
}

@Suite("Cached signal")
struct CachedSignalTests {
    let start = Date(timeIntervalSince1970: 1_796_292_000)

    @Test("readers within the TTL share one fetch")
    func cachesWithinTTL() async {
        let fetcher = ScriptedFetcher(base: start)
        let clock = TestClock(start)
        let cache = CachedSignal(fetcher: fetcher, settings: .init(ttl: .seconds(10), staleLimit: .seconds(60)), logger: .disabled, now: { clock.now })
        for _ in 0..<5 { _ = await cache.reading(region: "ES") }
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
        clock.advance(11)
        _ = await cache.reading(region: "ES")
        #expect(fetcher.calls.load(ordering: .relaxed) == 2)
    }

    @Test("a failing service is answered from the last good value, marked stale, until the stale limit")
    func staleWhileError() async throws {
        let fetcher = ScriptedFetcher(base: start)
        let clock = TestClock(start)
        let cache = CachedSignal(fetcher: fetcher, settings: .init(ttl: .seconds(10), staleLimit: .seconds(60)), logger: .disabled, now: { clock.now })
        _ = await cache.reading(region: "ES")
        fetcher.failing.store(true, ordering: .relaxed)
        clock.advance(30)
        let stale = try #require(await cache.reading(region: "ES").signal)
        #expect(stale.stale)
        #expect(stale.ageSeconds >= 30)
        clock.advance(31)
        guard case .unavailable(let reason) = await cache.reading(region: "ES") else {
            Issue.record("expected unavailable past the stale limit")
            return
        }
        #expect(reason.contains("provider down"))
    }

    @Test("a region never fetched and a failing service is unavailable, never made up")
    func neverMadeUp() async {
        let fetcher = ScriptedFetcher(base: start)
        fetcher.failing.store(true, ordering: .relaxed)
        let cache = CachedSignal(fetcher: fetcher, logger: .disabled, now: { self.start })
        #expect(await cache.reading(region: "NO").signal == nil)
        #expect(await cache.forecast(region: "NO") == nil)
    }

    @Test("concurrent readers of a cold region cause one fetch")
    func coalesces() async {
        let fetcher = ScriptedFetcher(base: start)
        let cache = CachedSignal(fetcher: fetcher, logger: .disabled, now: { self.start })
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await cache.reading(region: "GB") } }
        }
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
    }
}
