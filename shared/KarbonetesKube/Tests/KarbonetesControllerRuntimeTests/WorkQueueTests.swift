import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeTestKit
import Testing

@Suite("Work queue")
struct WorkQueueTests {
    @Test("a key added many times is queued once, in first-added order")
    func deduplicates() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        for key in ["a", "b", "a", "c", "b", "a"] { await queue.add(key) }
        #expect(await queue.count == 3)
        var order: [String] = []
        for _ in 0..<3 { order.append(await queue.get()!) }
        #expect(order == ["a", "b", "c"])
    }

    @Test("a key re-added while a worker holds it is handed out again only after done")
    func oneWorkerPerKey() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        await queue.add("a")
        let first = await queue.get()
        #expect(first == "a")
        await queue.add("a")
        await queue.add("a")
        #expect(await queue.count == 0)
        await queue.add("b")
        #expect(await queue.get() == "b")
        await queue.done("a")
        #expect(await queue.count == 1)
        #expect(await queue.get() == "a")
        await queue.done("a")
        await queue.done("b")
        #expect(await queue.count == 0)
        #expect(await queue.processingCount == 0)
    }

    @Test("a waiting worker gets a key as soon as it is added")
    func waitingWorker() async {
        let queue = WorkQueue<Int>(clock: ManualClock())
        async let got = queue.get()
        while await queue.count == 0, await queue.processingCount == 0 {
            await queue.add(7)
        }
        #expect(await got == 7)
    }

    struct BackoffCase: Sendable, CustomStringConvertible {
        var description: String
        var failures: Int
        var want: Duration
    }

    @Test(
        "per-key backoff doubles from 5 ms and stops at 1,000 s, as client-go's",
        arguments: [
            BackoffCase(description: "first", failures: 1, want: .milliseconds(5)),
            BackoffCase(description: "second", failures: 2, want: .milliseconds(10)),
            BackoffCase(description: "fifth", failures: 5, want: .milliseconds(80)),
            BackoffCase(description: "18th", failures: 18, want: .milliseconds(655_360)),
            BackoffCase(description: "19th capped", failures: 19, want: .seconds(1000)),
            BackoffCase(description: "100th capped", failures: 100, want: .seconds(1000)),
        ])
    func backoff(_ testCase: BackoffCase) {
        var limiter = ItemExponentialFailureRateLimiter<String>()
        var last = Duration.zero
        for _ in 0..<testCase.failures { last = limiter.when("k") }
        #expect(last == testCase.want)
        #expect(limiter.numRequeues("k") == testCase.failures)
        #expect(limiter.when("other") == .milliseconds(5))
        limiter.forget("k")
        #expect(limiter.when("k") == .milliseconds(5))
    }

    @Test("delayed adds fire in deadline order when the clock reaches them; an earlier add wins over a later one")
    func delayedAdds() async throws {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            await queue.add("late", after: .seconds(30))
            await queue.add("soon", after: .seconds(10))
            await queue.add("soon", after: .seconds(20))
            await queue.add("moved", after: .seconds(40))
            await queue.add("moved", after: .seconds(5))
            #expect(await queue.delayedCount == 3)
            try await clock.waitForSleepers()
            #expect(clock.nextDeadline == clock.now().addingTimeInterval(5))
            #expect(await queue.count == 0)

            clock.advance(by: .seconds(10))
            #expect(await queue.get() == "moved")
            #expect(await queue.get() == "soon")
            try await clock.waitForSleepers()
            #expect(await queue.count == 0)
            clock.advance(by: .seconds(20))
            #expect(await queue.get() == "late")
            #expect(await queue.delayedCount == 0)
            await queue.shutDown()
            try await group.waitForAll()
        }
    }

    @Test("a failed key comes back after its backoff, and forget resets it")
    func rateLimitedRetry() async throws {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for attempt in 1...3 {
                await queue.addRateLimited("job")
                try await clock.waitForSleepers()
                let expected = 0.005 * pow(2, Double(attempt - 1))
                #expect(abs(clock.nextDeadline!.timeIntervalSince(clock.now()) - expected) < 1e-6)
                clock.advance(by: .milliseconds(5 << (attempt - 1)))
                #expect(await queue.get() == "job")
                await queue.done("job")
            }
            #expect(await queue.numRequeues("job") == 3)
            await queue.forget("job")
            #expect(await queue.numRequeues("job") == 0)
            await queue.shutDown()
            try await group.waitForAll()
        }
    }

    @Test("ten thousand timers are heap entries: all fire after one advance, quickly")
    func manyTimers() async throws {
        let clock = ManualClock()
        let queue = WorkQueue<Int>(clock: clock)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for key in 0..<10_000 { await queue.add(key, after: .seconds(1 + (key * 7919) % 3600)) }
            #expect(await queue.delayedCount == 10_000)
            try await clock.waitForSleepers()
            clock.advance(by: .seconds(3601))
            var seen = Set<Int>()
            while seen.count < 10_000, let key = await queue.get() {
                seen.insert(key)
                await queue.done(key)
            }
            #expect(seen.count == 10_000)
            await queue.shutDown()
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("shutdown drains: queued keys are still handed out, new ones are refused, then get returns nil")
    func shutdownDrains() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        await queue.add("a")
        await queue.add("b")
        await queue.add("pending", after: .seconds(60))
        let held = await queue.get()
        await queue.shutDown()
        await queue.add("c")
        #expect(await queue.get() == "b")
        #expect(await queue.get() == nil)
        #expect(await queue.delayedCount == 0)
        await queue.done("b")
        async let drained: Void = queue.shutDownAndDrain()
        await queue.done(held!)
        await drained
        #expect(await queue.processingCount == 0)
    }

    @Test("a worker blocked in get returns nil when its task is cancelled or the queue shuts down")
    func blockedWorkers() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        let cancelled = Task { await queue.get() }
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        async let waiting = queue.get()
        try? await Task.sleep(for: .milliseconds(20))
        await queue.shutDown()
        #expect(await waiting == nil)
    }
}
