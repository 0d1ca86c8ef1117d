import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesKubeTestKit
import KarbonetesModels
import Synchronization
import Testing

func job(_ name: String, namespace: String = "batch", labels: [String: String]? = nil) -> Job {
    Job(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), spec: JobSpec(suspend: true))
}

/// Records what an informer's handlers saw, as `added a`, `updated a`, `deleted a`.
final class EventLog: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ event: InformerEvent<Job>) {
        let name = event.object.metadata.name ?? "?"
        let entry: String =
            switch event {
            case .added: "added \(name)"
            case .updated: "updated \(name)"
            case .deleted: "deleted \(name)"
            }
        entries.withLock { $0.append(entry) }
    }

    var all: [String] { entries.withLock { $0 } }
    func clear() { entries.withLock { $0.removeAll() } }
}

/// Polls (in real time, briefly) until the condition holds, or fails the test after a timeout.
func eventually(
    _ what: String, timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async {
    let start = ContinuousClock.now
    while !(await condition()) {
        if ContinuousClock.now - start > timeout {
            Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
            return
        }
        try? await Task.sleep(for: .milliseconds(2))
    }
}

@Suite("Informer")
struct InformerTests {
    struct Harness {
        let server: FakeAPIServer
        let client: KubeClient
        let clock: ManualClock
        let informer: Informer<Job>
        let log = EventLog()

        init(pageSize: Int = 500) {
            clock = ManualClock()
            server = FakeAPIServer(clock: clock)
            client = KubeClient(transport: server, clock: clock)
            informer = Informer(
                client: client, resource: .jobs, namespace: "batch",
                indexers: ["state": { [$0.metadata.annotation("carbon-aware.io/state") ?? "none"] }], pageSize: pageSize,
                backoff: Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: 0), clock: clock)
            let log = self.log
            informer.addHandler { log.record($0) }
        }

        func running(_ body: () async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await informer.run() }
                try await informer.waitForSync()
                try await body()
                group.cancelAll()
                try await group.waitForAll()
            }
        }
    }

    @Test("it lists in pages, then watches from the list's resourceVersion and applies adds, updates and deletes")
    func listThenWatch() async throws {
        let harness = Harness(pageSize: 2)
        for name in ["a", "b", "c"] { try await harness.server.seed(job(name), .jobs) }
        try await harness.server.seed(job("other-namespace", namespace: "elsewhere"), .jobs)
        let listVersion = await harness.server.currentResourceVersion
        try await harness.running {
            #expect(harness.informer.hasSynced)
            #expect(harness.informer.cache.keys().map(\.description) == ["batch/a", "batch/b", "batch/c"])
            #expect(harness.log.all == ["added a", "added b", "added c"])
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            let watch = await harness.server.requests.last { $0.query["watch"] == "true" }
            #expect(watch?.query["resourceVersion"] == listVersion)
            #expect(await harness.server.requests.filter { $0.query["limit"] == "2" }.count == 2)

            _ = try await harness.client.create(job("d"))
            _ = try await harness.client.patch(
                Job.self, namespace: "batch", name: "a", patch: .merge(["metadata": ["annotations": ["carbon-aware.io/state": "held"]]]))
            try await harness.client.delete(.jobs, namespace: "batch", name: "b")
            await eventually("three events") { harness.log.all.count == 6 }
            #expect(harness.log.all.suffix(3) == ["added d", "updated a", "deleted b"])
            #expect(harness.informer.cache.keys().map(\.description) == ["batch/a", "batch/c", "batch/d"])
            #expect(harness.informer.cache.byIndex("state", "held").map(\.metadata.name) == ["a"])
            #expect(harness.informer.cache.byIndex(ObjectCache<Job>.namespaceIndex, "batch").count == 3)
            #expect(harness.informer.lastResourceVersion == (await harness.server.currentResourceVersion))
        }
    }

    @Test("a keep filter caches only what it accepts, and an object that stops matching leaves as a delete, in a watch and in a re-list")
    func keepFilter() async throws {
        let clock = ManualClock()
        let server = FakeAPIServer(clock: clock)
        let client = KubeClient(transport: server, clock: clock)
        let informer = Informer(
            client: client, resource: .jobs, namespace: "batch", keep: { (job: Job) in job.metadata.annotation("carbon-aware.io/state") == "deferred" },
            backoff: Backoff(initial: .seconds(1), maximum: .seconds(8), jitter: 0), clock: clock)
        let log = EventLog()
        informer.addHandler { log.record($0) }
        func held(_ name: String) -> Job {
            var held = job(name)
            held.metadata.annotations = ["carbon-aware.io/state": "deferred"]
            return held
        }
        func setState(_ name: String, _ state: String) async throws {
            _ = try await client.patch(Job.self, namespace: "batch", name: name, patch: .merge(["metadata": ["annotations": ["carbon-aware.io/state": .string(state)]]]))
        }
        for name in ["a", "b", "c"] { try await server.seed(held(name), .jobs) }
        try await server.seed(job("plain"), .jobs)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            try await informer.waitForSync()
            #expect(informer.cache.keys().map(\.name) == ["a", "b", "c"])
            #expect(log.all == ["added a", "added b", "added c"])
            await eventually("the watch") { await server.openWatchCount == 1 }

            try await setState("a", "released")
            try await setState("plain", "released")
            try await client.delete(.jobs, namespace: "batch", name: "plain")
            _ = try await client.create(held("d"))
            await eventually("a's delete and d's add") { log.all.count == 5 }
            #expect(log.all.suffix(2) == ["deleted a", "added d"], "nothing for a Job the cache never kept")
            #expect(informer.cache.keys().map(\.name) == ["b", "c", "d"])

            // A change missed while the watch was broken and the history compacted comes out of
            // the re-list the same way.
            await server.breakWatches()
            try await clock.waitForSleepers()
            try await setState("b", "released")
            await server.compact()
            clock.advance(by: .seconds(1))
            await eventually("the re-list") { informer.requestCounts.lists == 2 }
            await eventually("b's delete from the re-list") { log.all.last == "deleted b" }
            #expect(informer.cache.keys().map(\.name) == ["c", "d"])
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test("a dropped watch resumes from the last version seen, a bookmark's included, without re-listing")
    func droppedWatchResumes() async throws {
        let harness = Harness()
        try await harness.running {
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            _ = try await harness.client.create(job("a"))
            await eventually("the add") { harness.log.all == ["added a"] }
            await harness.server.dropWatches()
            await eventually("the second watch") { harness.informer.requestCounts.watches == 2 }
            let second = await harness.server.requests.last { $0.query["watch"] == "true" }
            #expect(second?.query["resourceVersion"] == harness.informer.cache.get(ObjectKey(namespace: "batch", name: "a"))?.metadata.resourceVersion)

            _ = try await harness.client.create(job("unrelated"), .jobs, namespace: "elsewhere")
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            await harness.server.sendBookmarks()
            let bookmarked = await harness.server.currentResourceVersion
            await eventually("the bookmark") { harness.informer.lastResourceVersion == bookmarked }
            await harness.server.dropWatches()
            await eventually("the third watch") { harness.informer.requestCounts.watches == 3 }
            let third = await harness.server.requests.last { $0.query["watch"] == "true" }
            #expect(third?.query["resourceVersion"] == bookmarked)
            #expect(harness.informer.requestCounts.lists == 1)
        }
    }

    @Test("after 410 Gone it re-lists and reconciles: deletes for vanished objects, updates and adds for the rest")
    func goneRelists() async throws {
        let harness = Harness()
        for name in ["a", "b", "c"] { try await harness.server.seed(job(name), .jobs) }
        try await harness.running {
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            harness.log.clear()
            // The connection breaks; while the informer backs off, the world changes and the
            // server compacts its history past what the informer saw.
            await harness.server.breakWatches()
            try await harness.clock.waitForSleepers()
            try await harness.server.seed(job("d"), .jobs)
            _ = try await harness.client.delete(.jobs, namespace: "batch", name: "b")
            _ = try await harness.client.patch(Job.self, namespace: "batch", name: "c", patch: .merge(["spec": ["parallelism": 3]]))
            await harness.server.compact()
            harness.clock.advance(by: .seconds(1))

            await eventually("the re-list") { harness.informer.requestCounts.lists == 2 }
            await eventually("the reconciled events") { harness.log.all.count == 3 }
            #expect(Set(harness.log.all) == ["updated c", "added d", "deleted b"])
            #expect(harness.informer.cache.keys().map(\.description) == ["batch/a", "batch/c", "batch/d"])
            #expect(harness.informer.cache.get(ObjectKey(namespace: "batch", name: "c"))?.spec?.parallelism == 3)
        }
    }

    @Test("an HTTP 410 on the watch request also re-lists")
    func httpGoneRelists() async throws {
        let harness = Harness()
        try await harness.running {
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            await harness.server.failNext(code: 410) { $0.query["watch"] == "true" }
            await harness.server.dropWatches()
            await eventually("the re-list") { harness.informer.requestCounts.lists == 2 }
        }
    }

    @Test("an ERROR event other than 410 backs off, then resumes the watch from the last version without re-listing")
    func watchErrorEventResumes() async throws {
        let harness = Harness()
        try await harness.server.seed(job("a"), .jobs)
        try await harness.running {
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            let seen = harness.informer.lastResourceVersion
            await harness.server.sendWatchError(code: 500)
            try await harness.clock.waitForSleepers()
            #expect(harness.clock.nextDeadline!.timeIntervalSince(harness.clock.now()) == 1)
            harness.clock.advance(by: .seconds(1))
            await eventually("the second watch") { harness.informer.requestCounts.watches == 2 }
            let resumed = await harness.server.requests.last { $0.query["watch"] == "true" }
            #expect(resumed?.query["resourceVersion"] == seen)
            #expect(harness.informer.requestCounts.lists == 1)
        }
    }

    @Test("errors back off exponentially on the injected clock, and the first success resets the backoff")
    func backsOff() async throws {
        let harness = Harness()
        for _ in 0..<3 { await harness.server.failNext(code: 500) { $0.query["watch"] == nil } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await harness.informer.run() }
            var delays: [TimeInterval] = []
            for _ in 0..<3 {
                try await harness.clock.waitForSleepers()
                delays.append(harness.clock.nextDeadline!.timeIntervalSince(harness.clock.now()))
                harness.clock.advanceToNextDeadline()
            }
            #expect(delays == [1, 2, 4])
            try await harness.informer.waitForSync()
            #expect(harness.informer.requestCounts.lists == 4)
            await eventually("the watch") { await harness.server.openWatchCount == 1 }
            await harness.server.breakWatches()
            try await harness.clock.waitForSleepers()
            #expect(harness.clock.nextDeadline!.timeIntervalSince(harness.clock.now()) == 1)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test("waitForSync throws when cancelled before the informer ever syncs")
    func waitForSyncCancels() async throws {
        let harness = Harness()
        let waiter = Task { try await harness.informer.waitForSync() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!harness.informer.hasSynced)
    }

    @Test("handlers feed a work queue with object keys")
    func feedsQueue() async throws {
        let harness = Harness()
        let queue = WorkQueue<ObjectKey>(clock: harness.clock)
        harness.informer.enqueue(into: queue)
        try await harness.server.seed(job("a"), .jobs)
        try await harness.running {
            _ = try await harness.client.patch(Job.self, namespace: "batch", name: "a", patch: .merge(["spec": ["parallelism": 2]]))
            _ = try await harness.client.create(job("b"))
            await eventually("two keys") { await queue.count == 2 }
            #expect(await queue.get() == ObjectKey(namespace: "batch", name: "a"))
            #expect(await queue.get() == ObjectKey(namespace: "batch", name: "b"))
        }
    }
}

@Suite("Informer soak against the fake API server")
struct InformerSoakTests {
    @Test("random writes, dropped and broken watches, compactions and 5% server errors: the cache ends equal to the server")
    func soak() async throws {
        let server = FakeAPIServer(historyLimit: 50)
        let client = KubeClient(transport: server)
        let informer = Informer<Job>(
            client: client, resource: .jobs, namespace: "batch", pageSize: 7,
            backoff: Backoff(initial: .milliseconds(1), maximum: .milliseconds(20), jitter: 0))
        var generator = SplitMix64(seed: 42)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            try await informer.waitForSync()
            for step in 0..<1500 {
                let name = "job-\(generator.next() % 40)"
                let roll = generator.next() % 100
                if roll < 5 {
                    await server.failNext(code: 500)
                }
                switch generator.next() % 10 {
                case 0...3: _ = try? await client.create(job(name))
                case 4...6:
                    _ = try? await client.patch(
                        Job.self, namespace: "batch", name: name, patch: .merge(["spec": ["parallelism": .number(Double(step))]]))
                default: try? await client.delete(.jobs, namespace: "batch", name: name)
                }
                switch step % 100 {
                case 17: await server.dropWatches()
                case 43: await server.breakWatches()
                case 71: await server.compact()
                case 89: await server.sendBookmarks()
                default: break
                }
                if step.isMultiple(of: 25) { try await Task.sleep(for: .milliseconds(1)) }
            }
            let expected = try await server.stored(Job.self, .jobs).map { "\($0.key) \($0.metadata.resourceVersion ?? "")" }
            // A lost event never converges; a starved informer (the test process shares two
            // cooperative threads with every other suite, some of which block one while a
            // karbonetes-devapi process exits) converges late: the generous bound tells them
            // apart, and the message says what differed.
            let cached = { informer.cache.list().map { "\($0.key) \($0.metadata.resourceVersion ?? "")" } }
            await eventually("the cache to converge", timeout: .seconds(90)) { cached() == expected }
            if cached() != expected {
                let missing = Set(expected).subtracting(cached()).sorted()
                let extra = Set(cached()).subtracting(expected).sorted()
                Issue.record("cache differs from the server: missing \(missing), extra \(extra); requests \(informer.requestCounts), last version \(informer.lastResourceVersion ?? "none")")
            }
            #expect(informer.requestCounts.lists > 1)
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// A small deterministic generator, so a failing soak run can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
