import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesKubeTestKit
import KarbonetesMetrics
import KarbonetesModels
import Testing

@Suite("Event recorder")
struct EventRecorderTests {
    let clock = ManualClock()
    let server: FakeAPIServer
    let client: KubeClient

    init() {
        server = FakeAPIServer(clock: clock)
        client = KubeClient(transport: server, clock: clock)
    }

    func heldJob() -> Job {
        Job(metadata: ObjectMeta(name: "train", namespace: "batch", uid: "uid-7", resourceVersion: "12"))
    }

    func events() async throws -> [Event] { try await server.stored(Event.self, .events) }

    @Test("repeats of the same object, type, reason and message patch count and lastTimestamp; a new message is a new Event")
    func aggregates() async throws {
        let recorder = EventRecorder(client: client, component: "karbonetes-controller", instance: "pod-a", clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            recorder.record(heldJob(), type: .normal, reason: "Held", message: "grid at 420 g/kWh, above 200")
            clock.advance(by: .seconds(60))
            recorder.record(heldJob(), type: .normal, reason: "Held", message: "grid at 420 g/kWh, above 200")
            clock.advance(by: .seconds(60))
            recorder.record(heldJob(), type: .normal, reason: "Held", message: "grid at 420 g/kWh, above 200")
            recorder.record(heldJob(), type: .normal, reason: "Released", message: "grid green")
            recorder.finish()
            try await group.waitForAll()
        }
        let stored = try await events().sorted { ($0.reason ?? "") < ($1.reason ?? "") }
        #expect(stored.count == 2)
        let held = try #require(stored.first)
        #expect(held.reason == "Held")
        #expect(held.count == 3)
        #expect(held.type == "Normal")
        #expect(held.metadata.namespace == "batch")
        #expect(held.involvedObject == ObjectReference(apiVersion: "batch/v1", kind: "Job", namespace: "batch", name: "train", uid: "uid-7", resourceVersion: "12"))
        #expect(held.source?.component == "karbonetes-controller")
        #expect(held.reportingInstance == "pod-a")
        let first = try #require(held.firstTimestamp), last = try #require(held.lastTimestamp)
        #expect(last.timeIntervalSince(first) == 120)
        #expect(stored.last?.count == 1)
        let verbs = await server.requests.map { $0.method }
        #expect(verbs == ["POST", "PATCH", "PATCH", "POST"])
    }

    @Test("past the aggregate limit the least recently used Event is forgotten: its repeat is a new Event, a recent one's a patch")
    func forgetsLeastRecentlyUsed() async throws {
        let recorder = EventRecorder(client: client, component: "c", instance: "i", clock: clock, aggregateLimit: 3)
        func job(_ name: String) -> Job { Job(metadata: ObjectMeta(name: name, namespace: "batch", uid: "uid-\(name)")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            for name in ["a", "b", "c"] { recorder.record(job(name), type: .normal, reason: "Held", message: "m") }
            recorder.record(job("a"), type: .normal, reason: "Held", message: "m")  // a is now the most recent
            recorder.record(job("d"), type: .normal, reason: "Held", message: "m")  // forgets b, the least recent
            recorder.record(job("a"), type: .normal, reason: "Held", message: "m")  // still known: a patch
            recorder.record(job("b"), type: .normal, reason: "Held", message: "m")  // forgotten: a new Event
            recorder.finish()
            try await group.waitForAll()
        }
        let verbs = await server.requests.map { $0.method }
        #expect(verbs == ["POST", "POST", "POST", "PATCH", "POST", "PATCH", "POST"])
        let stored = try await events()
        #expect(stored.filter { $0.involvedObject.name == "a" }.map(\.count) == [3])
        #expect(stored.filter { $0.involvedObject.name == "b" }.count == 2)
    }

    @Test("a repeat of an Event that expired on the server creates a new one")
    func expiredEvent() async throws {
        let recorder = EventRecorder(client: client, component: "c", instance: "i", clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            recorder.record(heldJob(), type: .warning, reason: "SignalUnavailable", message: "no signal")
            await eventually("the first Event") { ((try? await events()) ?? []).count == 1 }
            let name = try #require(try await events().first?.metadata.name)
            try await client.delete(.events, namespace: "batch", name: name)
            clock.advance(by: .seconds(1))
            recorder.record(heldJob(), type: .warning, reason: "SignalUnavailable", message: "no signal")
            recorder.finish()
            try await group.waitForAll()
        }
        let stored = try await events()
        #expect(stored.count == 1)
        #expect(stored.first?.count == 1)
        #expect(stored.first?.type == "Warning")
    }

    @Test("a full buffer drops events and counts them instead of blocking the caller")
    func dropsWhenFull() async throws {
        let registry = MetricsRegistry()
        let counter = registry.counter("karbonetes_events_dropped_total", help: "Events dropped", labelNames: [])
        let recorder = EventRecorder(client: client, component: "c", instance: "i", capacity: 10, clock: clock, droppedCounter: counter)
        let started = ContinuousClock.now
        for index in 0..<10_000 {
            recorder.record(heldJob(), type: .normal, reason: "Held", message: "message \(index)")
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(recorder.droppedCount == 9_990)
        #expect(counter.value() == 9_990)
        recorder.finish()
        try await recorder.run()
        #expect(try await events().count == 10)
    }

    @Test("an API error is logged and the recorder goes on with the next Event")
    func survivesErrors() async throws {
        let recorder = EventRecorder(client: client, component: "c", instance: "i", clock: clock)
        await server.failNext(code: 500)
        recorder.record(heldJob(), type: .normal, reason: "Held", message: "lost")
        recorder.record(heldJob(), type: .normal, reason: "Released", message: "kept")
        recorder.finish()
        try await recorder.run()
        #expect(try await events().map(\.reason) == ["Released"])
    }
}
