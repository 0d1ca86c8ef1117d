import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesKubeTestKit
import KarbonetesModels
import Testing

@Suite("Write priority: Events give way to reconciles")
struct WritePriorityTests {
    @Test("background work waits while foreground work runs and for the quiet period after it")
    func waitsForQuiet() async throws {
        let clock = ManualClock()
        let priority = WritePriority(quietPeriod: .milliseconds(200), maxDeferral: .seconds(30), clock: clock)
        #expect(priority.isQuiet)
        priority.begin()
        #expect(!priority.isQuiet)
        let waiter = Task { await priority.waitForTurn() }
        try await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        try await clock.waitForSleepers(1)
        priority.end()
        clock.advance(by: .milliseconds(100))
        #expect(!priority.isQuiet)
        try await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(150))
        await waiter.value
        #expect(priority.isQuiet)
    }

    @Test("by default a gap of a few tens of milliseconds between reconciles is enough for background work")
    func steadyLoad() async throws {
        let clock = ManualClock()
        let priority = WritePriority(clock: clock)
        priority.begin()
        priority.end()
        #expect(!priority.isQuiet)
        let waiter = Task { await priority.waitForTurn() }
        try await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(25))
        await waiter.value
        #expect(priority.isQuiet)
    }

    @Test("background work goes after maxDeferral even while foreground work never pauses")
    func maxDeferral() async throws {
        let clock = ManualClock()
        let priority = WritePriority(quietPeriod: .milliseconds(200), maxDeferral: .seconds(2), clock: clock)
        priority.begin()
        let waiter = Task { await priority.waitForTurn() }
        try await clock.advance(by: .seconds(2), step: .milliseconds(500))
        await waiter.value
        #expect(!priority.isQuiet)
    }

    @Test("the recorder writes its buffered Events only once the foreground work pauses")
    func recorderWaits() async throws {
        let clock = ManualClock()
        let server = FakeAPIServer(clock: clock)
        let client = KubeClient(transport: server, clock: clock)
        let priority = WritePriority(quietPeriod: .milliseconds(200), maxDeferral: .seconds(60), clock: clock)
        let recorder = EventRecorder(client: client, component: "c", instance: "i", clock: clock, priority: priority)
        priority.begin()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            for index in 0..<3 {
                recorder.record(Job(metadata: ObjectMeta(name: "j\(index)", namespace: "batch", uid: "u\(index)")), type: .normal, reason: "Released", message: "m")
            }
            try await clock.advance(by: .seconds(10), step: .seconds(1))
            #expect(try await server.stored(Event.self, .events).isEmpty)
            priority.end()
            // The writes follow once the quiet period has passed on the manual clock.
            let giveUp = ContinuousClock.now + .seconds(5)
            while try await server.stored(Event.self, .events).count < 3, ContinuousClock.now < giveUp {
                clock.advance(by: .milliseconds(50))
                try await Task.sleep(for: .milliseconds(5))
            }
            recorder.finish()
            try await group.waitForAll()
        }
        #expect(try await server.stored(Event.self, .events).count == 3)
    }
}
