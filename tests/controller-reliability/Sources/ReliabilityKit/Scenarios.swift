public import Foundation
import KarbonetesModels

/// What a scenario saw, for the test's assertions and its printed summary.
public struct ScenarioOutcome: Sendable, CustomStringConvertible {
    public var report: ReleaseAuditReport
    public var outages: [Outage]
    /// Leader failover: from `kill -9` of the leader until the other replica was seen leading.
    public var takeover: TimeInterval?
    public var notes: [String] = []

    public var description: String {
        var lines = [report.description]
        if let takeover { lines.append("takeover_s=\(String(format: "%.3f", takeover))") }
        if !outages.isEmpty {
            let total = outages.reduce(0) { $0 + $1.end.timeIntervalSince($1.start) }
            lines.append("outages=\(outages.count) outage_total_s=\(String(format: "%.1f", total))")
        }
        return (lines + notes).joined(separator: "\n")
    }
}

/// The reliability scenarios of issue 7, sized by their arguments so that `make test` runs a
/// compressed version and `make test-controller-reliability-full` the full one.
public enum Scenarios {
    static let namespace = "reliability"
    /// Releases a second assumed for Jobs that fall due at the same moment: debug builds of the
    /// controller and the API server, the proxy, and a machine shared with other builds.
    /// (The release build's rate is what `make bench-controller` measures.)
    public static let assumedBurstRate: Double = 100

    /// `kill -9` of the controller at `kills` random moments while `jobs` held Jobs are
    /// released (60% at their deadlines, the rest at a green flip), restarting it each time.
    public static func killNine(jobs: Int, kills: Int, span: TimeInterval, seed: UInt64 = UInt64(Date().timeIntervalSince1970)) async throws -> ScenarioOutcome {
        try await ScenarioEnvironment.run("kill9", keepFolderIf: { !$0.report.violations.isEmpty }) { environment in
            let timing = environment.timing
            let base = Date()
            let lead = 6 + Double(jobs) / 150
            let plans = HeldJobs.plans(count: jobs, namespace: namespace, deadlines: base.addingTimeInterval(lead)...base.addingTimeInterval(lead + span))
            try await environment.signal?.setGreen(false)
            try await HeldJobs.create(plans, client: environment.client)
            let supervisor = try ControllerSupervisor(environment: environment)
            guard let firstLeader = await environment.waitForLeadership(supervisor.controller, timeout: .seconds(30)) else {
                throw HarnessError.notReady("the first controller", detail: environment.controllerLogs())
            }
            supervisor.outages = [Outage(start: .distantPast, end: firstLeader)]
            let flip = base.addingTimeInterval(lead + span * 0.6)
            var generator = SplitMix64(seed: seed)
            let killWindow = max(firstLeader.timeIntervalSinceNow, 0.5)...(flip.timeIntervalSinceNow + 3)
            let killTimes = (0..<kills).map { _ in Date().addingTimeInterval(Double.random(in: killWindow, using: &generator)) }.sorted()
            var flipped: Date?
            for killTime in killTimes {
                // Until the kill: flip the signal when due, and note when the replacement leads.
                while Date() < killTime {
                    if flipped == nil, Date() >= flip {
                        flipped = Date()
                        try await environment.signal?.setGreen(true)
                    }
                    try await supervisor.check()
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await supervisor.killAndRestart()
            }
            if flipped == nil {
                while Date() < flip { try await Task.sleep(for: .milliseconds(20)) }
                flipped = Date()
                try await environment.signal?.setGreen(true)
            }
            let lastDeadline = plans.map(\.deadline).max() ?? Date()
            try await environment.waitForReleases(plans, timeout: .seconds(max(5, lastDeadline.timeIntervalSinceNow) + 30)) { try await supervisor.check() }
            // A second release, if any, would come within a reconcile or two: give it the chance.
            try await Task.sleep(for: timing.signalPollInterval * 2)
            try await supervisor.finish()
            let outages = supervisor.outages
            let report = try await environment.audit(
                plans,
                expectations: ReleaseExpectations(
                    greenFlip: flipped, reconcileInterval: seconds(timing.signalPollInterval), tolerance: 1,
                    allowedReasons: [ReleaseReason.maxDelay.rawValue, ReleaseReason.greenWindow.rawValue], outages: outages,
                    burstRate: assumedBurstRate))
            var outcome = ScenarioOutcome(report: report, outages: Array(outages.dropFirst()))
            outcome.notes.append("seed=\(seed) kills=\(kills) jobs=\(jobs) unplanned_restarts=\(supervisor.unplannedRestarts)")
            if !report.violations.isEmpty { outcome.notes.append("logs in \(environment.directory)\n" + environment.controllerLogs()) }
            return outcome
        }
    }

    /// Two replicas with leader election; the leader is killed with `kill -9` while Jobs are
    /// being released. The other must lead within lease duration + retry period.
    public static func leaderFailover(jobs: Int, timing: ControllerTiming) async throws -> ScenarioOutcome {
        try await ScenarioEnvironment.run("failover", timing: timing, keepFolderIf: { !$0.report.violations.isEmpty }) { environment in
            let base = Date()
            let lead = 6 + Double(jobs) / 150
            let plans = HeldJobs.plans(count: jobs, namespace: namespace, deadlines: base.addingTimeInterval(lead)...base.addingTimeInterval(lead + max(14, Double(jobs) / 25)))
            try await environment.signal?.setGreen(false)
            try await HeldJobs.create(plans, client: environment.client)
            let replicas = [try environment.startController(), try environment.startController()]
            var leader: ControllerInstance?
            let deadline = ContinuousClock.now + .seconds(30)
            while leader == nil, ContinuousClock.now < deadline {
                for replica in replicas where await replica.isLeader() { leader = replica }
                try await Task.sleep(for: .milliseconds(50))
            }
            guard let leader else { throw HarnessError.notReady("either replica as leader", detail: environment.controllerLogs()) }
            let firstLeader = Date()
            let follower = replicas.first { $0 !== leader }!
            // Kill the leader in the middle of the deadline releases, just after a flip to green.
            let flip = base.addingTimeInterval(lead + max(14, Double(jobs) / 25) / 2)
            while Date() < flip { try await Task.sleep(for: .milliseconds(20)) }
            let flipped = Date()
            try await environment.signal?.setGreen(true)
            try await Task.sleep(for: .milliseconds(300))
            let killedAt = Date()
            await leader.process.killHard()
            let takenOver = await environment.waitForLeadership(follower, timeout: .seconds(60))
            let up = takenOver ?? Date()
            let outages = [Outage(start: .distantPast, end: firstLeader), Outage(start: killedAt, end: up)]
            try await environment.waitForReleases(plans, timeout: .seconds(40))
            try await Task.sleep(for: timing.signalPollInterval * 2)
            let report = try await environment.audit(
                plans,
                expectations: ReleaseExpectations(
                    greenFlip: flipped, reconcileInterval: seconds(timing.signalPollInterval), tolerance: 1,
                    allowedReasons: [ReleaseReason.maxDelay.rawValue, ReleaseReason.greenWindow.rawValue], outages: outages,
                    burstRate: assumedBurstRate))
            var outcome = ScenarioOutcome(report: report, outages: [outages[1]], takeover: takenOver.map { $0.timeIntervalSince(killedAt) })
            if !report.violations.isEmpty || takenOver == nil { outcome.notes.append("logs in \(environment.directory)\n" + environment.controllerLogs()) }
            return outcome
        }
    }

    /// API server faults while Jobs are released: `faultRate` of Job requests answered 409 or
    /// 500 (half each), Job watches dropped every few seconds, the watch history compacted
    /// (410 Gone on resume), and one API server restart on its data folder.
    public static func apiFaults(jobs: Int, faultRate: Double = 0.05) async throws -> ScenarioOutcome {
        try await ScenarioEnvironment.run("faults", keepFolderIf: { !$0.report.violations.isEmpty }) { environment in
            let timing = environment.timing
            let base = Date()
            let lead = 6 + Double(jobs) / 150
            let span = max(18, Double(jobs) / 25)
            let plans = HeldJobs.plans(count: jobs, namespace: namespace, deadlines: base.addingTimeInterval(lead)...base.addingTimeInterval(lead + span))
            try await environment.signal?.setGreen(false)
            try await HeldJobs.create(plans, client: environment.client)
            let supervisor = try ControllerSupervisor(environment: environment)
            guard let firstLeader = await environment.waitForLeadership(supervisor.controller, timeout: .seconds(30)) else {
                throw HarnessError.notReady("the controller", detail: environment.controllerLogs())
            }
            supervisor.outages = [Outage(start: .distantPast, end: firstLeader)]
            let rules: [JSONValue] = [
                ["resource": "jobs", "errorRate": .number(faultRate / 2), "errorCode": 409],
                ["resource": "jobs", "errorRate": .number(faultRate / 2), "errorCode": 500],
                ["resource": "jobs", "dropWatchesEverySeconds": 3],
            ]
            try await environment.devAPI.setFaults(rules, client: environment.client)
            let flip = base.addingTimeInterval(lead + span * 0.6)
            let restartAt = base.addingTimeInterval(lead + span * 0.35)
            var flipped: Date?
            var restarted = false
            var nextCompaction = Date().addingTimeInterval(2)
            var compactions = 0
            while flipped == nil || !restarted {
                let now = Date()
                if now >= nextCompaction {
                    // Compact, then end the watches: their resume is answered 410 Gone.
                    try await environment.devAPI.compact(client: environment.client)
                    try await environment.devAPI.dropWatches(client: environment.client, resource: "jobs")
                    compactions += 1
                    nextCompaction = now.addingTimeInterval(4)
                }
                if !restarted, now >= restartAt {
                    let down = Date()
                    try await environment.devAPI.restart()
                    // Faults are not persisted: set them again on the new process.
                    try await environment.devAPI.setFaults(rules, client: environment.client)
                    supervisor.noteOutage(from: down)
                    restarted = true
                }
                if flipped == nil, now >= flip {
                    flipped = Date()
                    try await environment.signal?.setGreen(true)
                }
                try await supervisor.check()
                try await Task.sleep(for: .milliseconds(50))
            }
            try await environment.waitForReleases(plans, timeout: .seconds(max(5, (plans.last?.deadline ?? Date()).timeIntervalSinceNow) + 30)) {
                try await supervisor.check()
            }
            try await Task.sleep(for: timing.signalPollInterval * 2)
            try await supervisor.finish()
            let outages = supervisor.outages
            let report = try await environment.audit(
                plans,
                expectations: ReleaseExpectations(
                    greenFlip: flipped, reconcileInterval: seconds(timing.signalPollInterval), tolerance: 2,
                    allowedReasons: [ReleaseReason.maxDelay.rawValue, ReleaseReason.greenWindow.rawValue], outages: outages,
                    burstRate: assumedBurstRate))
            var outcome = ScenarioOutcome(report: report, outages: Array(outages.dropFirst()))
            let failed = Dictionary(grouping: environment.proxy.writes.filter { !$0.succeeded }, by: \.status).mapValues(\.count)
            let codes = failed.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
            let forced = await environment.devAPI.forcedStops
            outcome.notes.append(
                "compactions=\(compactions) failed_job_writes_by_code=\(codes) controller_exits_restarted=\(supervisor.unplannedRestarts) devapi_forced_stops=\(forced)")
            if !report.violations.isEmpty { outcome.notes.append("logs in \(environment.directory)\n" + environment.controllerLogs()) }
            return outcome
        }
    }

    /// The signal service is down for the whole run: every Job is released at its deadline
    /// with reason `max-delay`.
    public static func signalDown(jobs: Int) async throws -> ScenarioOutcome {
        try await ScenarioEnvironment.run("signal-down", withSignal: false, keepFolderIf: { !$0.report.violations.isEmpty }) { environment in
            let timing = environment.timing
            let base = Date()
            let lead = 5 + Double(jobs) / 150
            let plans = HeldJobs.plans(count: jobs, namespace: namespace, deadlines: base.addingTimeInterval(lead)...base.addingTimeInterval(lead + max(8, Double(jobs) / 25)))
            try await HeldJobs.create(plans, client: environment.client)
            let unused = try freeLocalPort()
            let controller = try environment.startController(signalURL: "http://127.0.0.1:\(unused)")
            guard let firstLeader = await environment.waitForLeadership(controller, timeout: .seconds(30)) else {
                throw HarnessError.notReady("the controller", detail: environment.controllerLogs())
            }
            try await environment.waitForReleases(plans, timeout: .seconds(max(5, (plans.last?.deadline ?? Date()).timeIntervalSinceNow) + 20))
            try await Task.sleep(for: timing.signalPollInterval * 2)
            let report = try await environment.audit(
                plans,
                expectations: ReleaseExpectations(
                    greenFlip: nil, reconcileInterval: seconds(timing.signalPollInterval), tolerance: 0.5, allowedReasons: [ReleaseReason.maxDelay.rawValue],
                    outages: [Outage(start: .distantPast, end: firstLeader)], burstRate: assumedBurstRate))
            var outcome = ScenarioOutcome(report: report, outages: [])
            if !report.violations.isEmpty { outcome.notes.append("logs in \(environment.directory)\n" + environment.controllerLogs()) }
            return outcome
        }
    }

    /// Deadlines are spread over at least `jobs / 25` seconds: issue 7's bound (a reconcile
    /// interval late at most) is about timers, not about releasing a thousand Jobs in the same
    /// second on a debug build.
    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Plays the kubelet for the controller: restarts it when it exits on its own (it exits when
/// it loses its lease, as client-go's leader election does) or after a `kill -9`, and records
/// each outage until the replacement is seen leading.
final class ControllerSupervisor {
    let environment: ScenarioEnvironment
    private(set) var controller: ControllerInstance
    var outages: [Outage] = []
    private(set) var unplannedRestarts = 0
    private var downSince: Date?

    init(environment: ScenarioEnvironment) throws {
        self.environment = environment
        controller = try environment.startController()
    }

    /// Something outside the controller (an API server restart) began an outage now.
    func noteOutage(from start: Date) {
        if downSince == nil { downSince = start }
    }

    func check() async throws {
        if controller.process.exitStatus != nil {
            unplannedRestarts += 1
            if downSince == nil { downSince = Date() }
            controller = try environment.startController()
        }
        if let down = downSince, await controller.isLeader() {
            outages.append(Outage(start: down, end: Date()))
            downSince = nil
        }
    }

    func killAndRestart() async throws {
        if downSince == nil { downSince = Date() }
        await controller.process.killHard()
        controller = try environment.startController()
    }

    /// Closes an open outage once the current controller leads.
    func finish() async throws {
        guard let down = downSince else { return }
        let up = await environment.waitForLeadership(controller, timeout: .seconds(30)) ?? Date()
        outages.append(Outage(start: down, end: up))
        downSince = nil
    }
}

/// A small seeded generator, so that a failing run's kill moments can be replayed (`seed=` in
/// its output, `KARBONETES_RELIABILITY_SEED` to set it).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
