import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import ReliabilityKit
import Testing

/// The audit is what every live scenario's verdict rests on, so it is tested on its own: each
/// case builds an end state and a write log, and names the violation the audit must find.
@Suite("The release audit")
struct ReleaseAuditTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)
    static let key = ObjectKey(namespace: "reliability", name: "held-0")
    static let deadline = epoch.addingTimeInterval(100)

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var released = true
        var reason = ReleaseReason.maxDelay.rawValue
        /// Seconds after the deadline of each write, with its status.
        var writes: [(TimeInterval, Int)]
        var greenFlip: TimeInterval?
        var outages: [(TimeInterval, TimeInterval)] = []
        var wantViolation: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "one write just after the deadline is clean", writes: [(0.2, 200)]),
        Case(name: "failed writes before the one that succeeded are not releases", writes: [(0.1, 409), (0.2, 500), (0.3, 502), (0.4, 200)]),
        Case(name: "two successful writes are a double release", writes: [(0.2, 200), (0.9, 200)], wantViolation: "2 successful writes"),
        Case(name: "a released Job with no successful write is flagged", writes: [(0.2, 409)], wantViolation: "0 successful writes"),
        Case(name: "a max-delay release before the deadline is early", writes: [(-3, 200)], wantViolation: "before its deadline"),
        Case(
            name: "a green release before the flip is early", reason: ReleaseReason.greenWindow.rawValue, writes: [(-30, 200)], greenFlip: -20,
            wantViolation: "before the signal turned green"),
        Case(name: "a green release after the flip is clean", reason: ReleaseReason.greenWindow.rawValue, writes: [(-19.5, 200)], greenFlip: -20),
        Case(name: "a release later than one reconcile interval is late", writes: [(2.0, 200)], wantViolation: "of controller up-time"),
        Case(name: "a deadline inside an outage is due at the outage's end", writes: [(5.8, 200)], outages: [(-1, 3), (2, 5)]),
        Case(name: "a reconcile interval cut short by an outage resumes after it", writes: [(4.5, 200)], outages: [(0.3, 4)]),
        Case(name: "an outage does not excuse lateness after it ended", writes: [(8, 200)], outages: [(-1, 5)], wantViolation: "of controller up-time"),
        Case(name: "overlapping outages are not subtracted twice", writes: [(6.8, 200)], outages: [(-1, 5), (0, 4)], wantViolation: "of controller up-time"),
        Case(name: "a Job still held is not released", released: false, writes: [], wantViolation: "not released"),
        Case(name: "a reason the scenario does not allow is flagged", reason: ReleaseReason.manual.rawValue, writes: [(0.1, 200)], wantViolation: "is not one of"),
    ]

    @Test("The audit finds exactly the violation each end state has", arguments: cases)
    func audit(_ testCase: Case) {
        var fixture = JobFixture.carbonAware(name: Self.key.name, namespace: "reliability").held(until: Self.deadline)
        if testCase.released {
            fixture = fixture.suspended(false)
                .annotated(CarbonAnnotations.state, CarbonState.released.rawValue)
                .annotated(CarbonAnnotations.releaseReason, testCase.reason)
                .annotated(CarbonAnnotations.releasedAt, RFC3339.format(Self.deadline))
        }
        let writes = testCase.writes.map { JobWrite(key: Self.key, method: "PATCH", status: $0.1, answeredAt: Self.deadline.addingTimeInterval($0.0)) }
        let expectations = ReleaseExpectations(
            greenFlip: testCase.greenFlip.map { Self.deadline.addingTimeInterval($0) }, reconcileInterval: 1, tolerance: 0.5,
            allowedReasons: [ReleaseReason.maxDelay.rawValue, ReleaseReason.greenWindow.rawValue],
            outages: testCase.outages.map { Outage(start: Self.deadline.addingTimeInterval($0.0), end: Self.deadline.addingTimeInterval($0.1)) })
        let report = ReleaseAudit.audit(
            plans: [HeldJobPlan(key: Self.key, deadline: Self.deadline)], finalJobs: [Self.key: fixture.job], writes: writes, expectations: expectations)
        if let want = testCase.wantViolation {
            #expect(report.violations.count == 1, "\(report)")
            #expect(report.violations.first?.contains(want) == true, "\(report)")
        } else {
            #expect(report.violations.isEmpty, "\(report)")
        }
        #expect(report.attemptedWrites == testCase.writes.count)
        #expect(report.successfulWrites == testCase.writes.filter { (200..<300).contains($0.1) }.count)
    }

    @Test("Jobs that fall due together get queueing time at the assumed burst rate, and no more")
    func burst() {
        let flip = Self.deadline.addingTimeInterval(-50)
        let plans = (0..<200).map { HeldJobPlan(key: ObjectKey(namespace: "reliability", name: "held-\($0)"), deadline: Self.deadline) }
        var jobs: [ObjectKey: Job] = [:]
        var writes: [JobWrite] = []
        for (index, plan) in plans.enumerated() {
            jobs[plan.key] = JobFixture.carbonAware(name: plan.key.name, namespace: "reliability").held(until: plan.deadline).suspended(false)
                .annotated(CarbonAnnotations.state, CarbonState.released.rawValue).annotated(CarbonAnnotations.releaseReason, ReleaseReason.greenWindow.rawValue)
                .annotated(CarbonAnnotations.releasedAt, RFC3339.format(flip)).job
            // 100 a second after the flip: the last is 2 s late.
            writes.append(JobWrite(key: plan.key, method: "PATCH", status: 200, answeredAt: flip.addingTimeInterval(Double(index + 1) / 100)))
        }
        let allowing = ReleaseExpectations(greenFlip: flip, reconcileInterval: 1, tolerance: 0, allowedReasons: [ReleaseReason.greenWindow.rawValue], burstRate: 100)
        #expect(ReleaseAudit.audit(plans: plans, finalJobs: jobs, writes: writes, expectations: allowing).violations.isEmpty)
        let strict = ReleaseExpectations(greenFlip: flip, reconcileInterval: 1, tolerance: 0, allowedReasons: [ReleaseReason.greenWindow.rawValue], burstRate: 400)
        #expect(ReleaseAudit.audit(plans: plans, finalJobs: jobs, writes: writes, expectations: strict).violations.count == 50)
    }

    @Test("A Job missing from the end state is reported by name")
    func missing() {
        let report = ReleaseAudit.audit(
            plans: [HeldJobPlan(key: Self.key, deadline: Self.deadline)], finalJobs: [:], writes: [],
            expectations: ReleaseExpectations(greenFlip: nil, reconcileInterval: 1, allowedReasons: []))
        #expect(report.violations == ["reliability/held-0: missing at the end"])
    }

    @Test(
        "Only writes to a Job's path are attributed to that Job",
        arguments: [
            ("/apis/batch/v1/namespaces/reliability/jobs/held-7", "reliability/held-7"),
            ("/apis/batch/v1/namespaces/ns/jobs/a/status", "ns/a"),
            ("/apis/batch/v1/namespaces/ns/jobs", nil),
            ("/api/v1/namespaces/ns/events/held-7.abc", nil),
            ("/apis/coordination.k8s.io/v1/namespaces/default/leases/karbonetes-controller", nil),
        ] as [(String, String?)])
    func jobKey(path: String, want: String?) {
        #expect(JobWrite.jobKey(path: path)?.description == want)
    }

    @Test("Deadlines are spread evenly over the window in whole seconds, none before its start")
    func plans() {
        let start = Self.epoch.addingTimeInterval(0.4)
        let plans = HeldJobs.plans(count: 5, namespace: "ns", deadlines: start...start.addingTimeInterval(8))
        #expect(plans.map { $0.deadline.timeIntervalSince(Self.epoch) } == [1, 3, 5, 7, 9])
        #expect(Set(plans.map(\.key.name)).count == 5)
        let object = HeldJobs.object(for: plans[0])
        #expect(object["metadata"]?["uid"] == nil)
        #expect(object["metadata"]?["labels"]?[CarbonAnnotations.managedLabel]?.stringValue == "true")
        #expect(object["metadata"]?["annotations"]?[CarbonAnnotations.deadline]?.stringValue == RFC3339.format(plans[0].deadline))
        #expect(HeldJobs.object(for: plans[0], managed: false)["metadata"]?["labels"]?[CarbonAnnotations.managedLabel]?.stringValue == "false")
    }
}
