import Foundation
import KarbonetesModels
import SignalCore
import SignalTestKit
import Testing

@Suite("Cache: TTL, stale-while-error, backoff, with an injected clock")
struct SignalCacheTests {
    let clock = ManualWallClock(at("2026-12-03T12:00:00Z"))
    let provider = ScriptedProvider(.answer(intensity: 200, green: false))
    let down = ProviderError.unreachable(provider: "scripted", region: "r", reason: "connection refused")

    func cache(ttl: TimeInterval = 30, staleLimit: TimeInterval = 900, backoff: TimeInterval = 5) -> SignalCache {
        SignalCache(
            providers: ["r": provider],
            settings: CacheSettings(ttl: ttl, staleLimit: staleLimit, failureBackoff: backoff), clock: clock)
    }

    @Test("values younger than the TTL are served without calling the provider; older ones are fetched again")
    func ttl() async throws {
        let cache = cache()
        for _ in 0..<5 { _ = try await cache.value(for: "r") }
        #expect(provider.calls == 1)
        clock.advance(by: 29)
        let young = try await cache.value(for: "r")
        #expect(young.age == 29)
        #expect(!young.stale)
        #expect(provider.calls == 1)
        clock.advance(by: 1)
        let refreshed = try await cache.value(for: "r")
        #expect(provider.calls == 2)
        #expect(refreshed.age == 0)
    }

    @Test(
        "when the provider fails the last good value is served marked stale with its age, until the stale limit, then nothing"
    )
    func staleWhileError() async throws {
        let cache = cache(staleLimit: 600)
        _ = try await cache.value(for: "r")
        provider.set(.fail(down))
        clock.advance(by: 300)
        let stale = try await cache.value(for: "r")
        #expect(stale.stale)
        #expect(stale.age == 300)
        #expect(stale.snapshot.current.intensity == 200)
        clock.advance(by: 300)
        #expect(try await cache.value(for: "r").age == 600)
        clock.advance(by: 1)
        let error = await #expect(throws: CacheMissError.self) { try await cache.value(for: "r") }
        #expect(error?.description.contains("over the 600s stale limit") == true)
        #expect(error?.description.contains("connection refused") == true)
        provider.set(.answer(intensity: 150, green: true))
        clock.advance(by: 10)
        let recovered = try await cache.value(for: "r")
        #expect(!recovered.stale)
        #expect(recovered.snapshot.current.intensity == 150)
    }

    @Test("a provider that never answered gives an error naming the region and the provider's failure")
    func neverFetched() async {
        provider.set(.fail(down))
        let error = await #expect(throws: CacheMissError.self) { try await cache().value(for: "r") }
        #expect(
            error?.description
                == "no carbon signal for region r yet: provider scripted for region r is unreachable: connection refused"
        )
    }

    @Test("after a failure the provider is not asked again within the backoff, or within a 429's Retry-After")
    func backoff() async throws {
        let cache = cache(backoff: 5)
        provider.set(.fail(down))
        _ = try? await cache.value(for: "r")
        _ = try? await cache.value(for: "r")
        #expect(provider.calls == 1)
        clock.advance(by: 5)
        _ = try? await cache.value(for: "r")
        #expect(provider.calls == 2)
        provider.set(.fail(.rateLimited(provider: "scripted", region: "r", retryAfter: 60)))
        clock.advance(by: 5)
        _ = try? await cache.value(for: "r")
        #expect(provider.calls == 3)
        clock.advance(by: 59)
        _ = try? await cache.value(for: "r")
        #expect(provider.calls == 3)
        clock.advance(by: 1)
        _ = try? await cache.value(for: "r")
        #expect(provider.calls == 4)
    }

    @Test("a cached static value expires at its window's end even inside the TTL")
    func validUntil() async throws {
        clock.set(at("2026-12-03T15:59:50Z"))
        let cache = SignalCache(
            providers: ["default": StaticProvider(schedule: .builtInDefault)], settings: CacheSettings(ttl: 30),
            clock: clock)
        #expect(try await cache.value(for: "default").snapshot.current.green)
        clock.advance(by: 10)
        let after = try await cache.value(for: "default")
        #expect(!after.snapshot.current.green)
        #expect(after.snapshot.current.windowStart == at("2026-12-03T16:00:00Z"))
    }

    @Test("the refresher fetches regions with no value or about to expire, and skips fresh ones")
    func refresherRound() async throws {
        let cache = cache(ttl: 30)
        let refresher = CacheRefresher(cache: cache, interval: .seconds(10))
        await refresher.refreshDue()
        #expect(provider.calls == 1)
        clock.advance(by: 15)
        await refresher.refreshDue()
        #expect(provider.calls == 1)
        clock.advance(by: 6)
        await refresher.refreshDue()
        #expect(provider.calls == 2)
        #expect(await cache.hasValueForEveryRegion())
    }

    @Test("an unknown region is reported as such, not as a provider failure")
    func unknownRegion() async {
        let error = await #expect(throws: CacheMissError.self) { try await cache().value(for: "elsewhere") }
        #expect(error?.isUnknownRegion == true)
    }
}

@Suite("Cache: one fetch per region however many requests wait")
struct SingleFlightTests {
    @Test("fifty concurrent requests for an expired region wait on one provider call and all get its value")
    func singleFlight() async throws {
        let clock = ManualWallClock(at("2026-12-03T12:00:00Z"))
        let provider = GatedProvider(intensity: 321)
        let cache = SignalCache(providers: ["r": provider], settings: CacheSettings(), clock: clock)
        try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<50 {
                group.addTask { try await cache.value(for: "r").snapshot.current.intensity }
            }
            while provider.calls == 0 { await Task.yield() }
            for _ in 0..<20 { await Task.yield() }
            provider.open()
            var answers: [Double] = []
            for try await intensity in group { answers.append(intensity) }
            #expect(answers == Array(repeating: 321, count: 50))
        }
        #expect(provider.calls == 1)
    }
}
