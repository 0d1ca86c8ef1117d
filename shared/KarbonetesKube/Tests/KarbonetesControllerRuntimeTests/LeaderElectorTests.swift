import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesKubeTestKit
import KarbonetesModels
import Synchronization
import Testing

/// What a candidate's leading work saw: when it started and when it was cancelled, on the
/// manual clock.
final class LeadingLog: Sendable {
    private let state = Mutex<(started: Date?, stopped: Date?)>((nil, nil))
    var started: Date? { state.withLock { $0.started } }
    var stopped: Date? { state.withLock { $0.stopped } }

    func work(clock: ManualClock) -> @Sendable () async throws -> Void {
        { [self] in
            state.withLock { $0.started = clock.now() }
            defer { state.withLock { $0.stopped = clock.now() } }
            while true { try await clock.sleep(for: .seconds(3600)) }
        }
    }
}

@Suite("Leader election")
struct LeaderElectorTests {
    let clock = ManualClock()
    let server: FakeAPIServer
    let client: KubeClient

    init() {
        server = FakeAPIServer(clock: clock)
        client = KubeClient(transport: server, clock: clock)
    }

    func elector(_ identity: String) -> LeaderElector {
        LeaderElector(
            client: client, configuration: LeaderElectionConfiguration(leaseName: "karbonetes-controller", namespace: "karbonetes", identity: identity),
            clock: clock)
    }

    func lease() async throws -> LeaseSpec? {
        try await server.stored(Lease.self, .leases).first?.spec
    }

    @Test("with no lease it creates one, leads, renews every retry period, and releases on graceful shutdown")
    func acquireRenewRelease() async throws {
        let a = elector("a")
        let log = LeadingLog()
        let task = Task { try await a.run(log.work(clock: clock)) }
        await eventually("leading") { log.started != nil }
        #expect(a.isLeader)
        var spec = try #require(try await lease())
        #expect(spec.holderIdentity == "a")
        #expect(spec.leaseDurationSeconds == 15)
        #expect(spec.leaseTransitions == 0)
        let acquired = try #require(spec.acquireTime)

        try await clock.advance(by: .seconds(2), step: .seconds(2))
        try await clock.settle()
        spec = try #require(try await lease())
        #expect(spec.renewTime?.date == clock.now())
        #expect(spec.acquireTime == acquired)

        task.cancel()
        try await task.value
        spec = try #require(try await lease())
        #expect(spec.holderIdentity == "")
        #expect(spec.leaseDurationSeconds == 1)
        #expect(!a.isLeader)
        #expect(log.stopped != nil)
    }

    @Test("a second candidate waits while the leader renews, and takes over at its next try once the leader releases")
    func successorTakesOverAtOnce() async throws {
        let a = elector("a"), b = elector("b")
        let logA = LeadingLog(), logB = LeadingLog()
        let taskA = Task { try await a.run(logA.work(clock: clock)) }
        await eventually("a leading") { logA.started != nil }
        let taskB = Task { try await b.run(logB.work(clock: clock)) }
        try await clock.advance(by: .seconds(40), step: .seconds(1))
        #expect(logB.started == nil)
        #expect(b.observedLeader == "a")

        taskA.cancel()
        try await taskA.value
        let released = clock.now()
        try await clock.advance(by: .seconds(2), step: .seconds(1))
        await eventually("b leading") { logB.started != nil }
        #expect(try #require(logB.started).timeIntervalSince(released) <= 2)
        #expect(try await lease()?.holderIdentity == "b")
        #expect(try await lease()?.leaseTransitions == 1)
        taskB.cancel()
        try await taskB.value
    }

    @Test("a leader that cannot renew cancels its work by the renew deadline and run throws")
    func lostLeaseStopsAtOnce() async throws {
        let a = elector("a")
        let log = LeadingLog()
        let outcome = Task { () -> (any Error)? in
            do {
                try await a.run(log.work(clock: clock))
                return nil
            } catch {
                return error
            }
        }
        await eventually("leading") { log.started != nil }
        let lastRenewal = clock.now()
        await server.failAll(code: 503) { $0.path.contains("/leases") }
        try await clock.advance(by: .seconds(8), step: .seconds(1))
        #expect(log.stopped == nil)
        #expect(a.isLeader)
        while log.stopped == nil, clock.now() < lastRenewal.addingTimeInterval(12) {
            // Once it stops nothing sleeps any more, so settling may time out: that is the point.
            try? await clock.settle(timeout: .milliseconds(300))
            if log.stopped != nil { break }
            clock.advance(by: .seconds(1))
        }
        let error = try #require(await outcome.value as? LeaderElectionError)
        #expect(error.isLostLease)
        #expect(error.description.contains("karbonetes/karbonetes-controller"))
        let stopped = try #require(log.stopped)
        #expect(stopped.timeIntervalSince(lastRenewal) <= 10)
        #expect(!a.isLeader)
    }

    @Test("a lease left by a dead leader is taken only once leaseDuration has passed since its record was first seen")
    func expiredLeaseIsTaken() async throws {
        let old = clock.now().addingTimeInterval(-3600)
        try await server.seed(
            Lease(
                metadata: ObjectMeta(name: "karbonetes-controller", namespace: "karbonetes"),
                spec: LeaseSpec(holderIdentity: "dead", leaseDurationSeconds: 15, acquireTime: MicroTime(old), renewTime: MicroTime(old), leaseTransitions: 4)),
            .leases)
        let b = elector("b")
        let log = LeadingLog()
        let firstSeen = clock.now()
        let task = Task { try await b.run(log.work(clock: clock)) }
        try await clock.advance(by: .seconds(14), step: .seconds(1))
        #expect(log.started == nil)
        try await clock.advance(by: .seconds(3), step: .seconds(1))
        await eventually("b leading") { log.started != nil }
        let took = try #require(log.started).timeIntervalSince(firstSeen)
        #expect(took >= 15 && took <= 17)
        let spec = try #require(try await lease())
        #expect(spec.holderIdentity == "b")
        #expect(spec.leaseTransitions == 5)
        task.cancel()
        try await task.value
    }

    @Test("candidates racing for one lease never lead at the same time", arguments: [2, 4])
    func raceHasOneWinner(_ candidates: Int) async throws {
        let electors = (0..<candidates).map { elector("c\($0)") }
        let logs = electors.map { _ in LeadingLog() }
        let tasks = zip(electors, logs).map { elector, log in Task { try await elector.run(log.work(clock: clock)) } }
        try await clock.advance(by: .seconds(30), step: .seconds(1))
        #expect(electors.filter(\.isLeader).count == 1)
        #expect(logs.filter { $0.started != nil }.count == 1)
        for task in tasks { task.cancel() }
        for task in tasks { try await task.value }
    }

    @Test("timings that cannot work are rejected")
    func invalidTimings() async {
        let bad = LeaderElector(
            client: client,
            configuration: LeaderElectionConfiguration(
                leaseName: "l", namespace: "n", identity: "i", leaseDuration: .seconds(5), renewDeadline: .seconds(10)),
            clock: clock)
        await #expect(throws: LeaderElectionError.self) { try await bad.run {} }
    }
}
