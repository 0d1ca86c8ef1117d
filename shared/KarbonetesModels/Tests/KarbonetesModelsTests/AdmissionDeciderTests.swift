import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

private let now = Date(timeIntervalSince1970: 1_796_292_000)  // 2026-12-03T10:00:00Z

@Suite("Admission decisions")
struct AdmissionDeciderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var job: JobFixture
        var spec: CarbonAwarePolicySpec? = nil
        var signal: SignalReading
        var operation: String = "CREATE"
        var wantOutcome: AdmissionDecider.Outcome
        var wantOps: [String] = []
        var wantWarning: String? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a Job without the opt-in annotation is never touched",
            job: .plain(), signal: .available(SignalFixture.dirty(at: now)), wantOutcome: .unchanged(.notOptedIn)),
        Case(
            name: "enabled must be exactly \"true\"",
            job: .plain().annotated(CarbonAnnotations.enabled, "yes"), signal: .available(SignalFixture.dirty(at: now)),
            wantOutcome: .unchanged(.notOptedIn)),
        Case(
            name: "an UPDATE passes through",
            job: .carbonAware(), signal: .available(SignalFixture.dirty(at: now)), operation: "UPDATE", wantOutcome: .unchanged(.notCreate)),
        Case(
            name: "a Kueue-managed Job is left to Kueue",
            job: .carbonAware().labelled(CarbonAnnotations.kueueQueueName, "team-a"), signal: .available(SignalFixture.dirty(at: now)),
            wantOutcome: .unchanged(.kueueManaged)),
        Case(
            name: "a Job the user created suspended stays the user's",
            job: .carbonAware().suspended(), signal: .available(SignalFixture.dirty(at: now)), wantOutcome: .unchanged(.suspendedByUser)),
        Case(
            name: "green now: the green pool is preferred and its taint tolerated",
            job: .carbonAware(), signal: .available(SignalFixture.green(at: now)), wantOutcome: .admittedGreen(pool: "green-batch"),
            wantOps: [
                "add /metadata/annotations/carbon-aware.io~1intensity-at-submission \"80\"",
                "add /metadata/annotations/carbon-aware.io~1state \"admitted-green\"",
                "add /metadata/annotations/carbon-aware.io~1intensity-at-decision \"80\"",
                #"add /spec/template/spec/affinity {"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"preference":{"matchExpressions":[{"key":"karpenter.sh/nodepool","operator":"In","values":["green-batch"]}]},"weight":100}]}}"#,
                #"add /spec/template/spec/tolerations [{"effect":"NoSchedule","key":"carbon-aware.io/green","operator":"Equal","value":"true"}]"#,
            ]),
        Case(
            name: "green now in strict mode: the green pool is required",
            job: .carbonAware().annotated(CarbonAnnotations.mode, "strict"), signal: .available(SignalFixture.green(at: now)),
            wantOutcome: .admittedGreen(pool: "green-batch"),
            wantOps: [
                "add /metadata/annotations/carbon-aware.io~1intensity-at-submission \"80\"",
                "add /metadata/annotations/carbon-aware.io~1state \"admitted-green\"",
                "add /metadata/annotations/carbon-aware.io~1intensity-at-decision \"80\"",
                #"add /spec/template/spec/affinity {"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"karpenter.sh/nodepool","operator":"In","values":["green-batch"]}]}]}}}"#,
                #"add /spec/template/spec/tolerations [{"effect":"NoSchedule","key":"carbon-aware.io/green","operator":"Equal","value":"true"}]"#,
            ]),
        Case(
            name: "not green: held with suspend, the managed label, state and deadline = now + maxDelay",
            job: .carbonAware().annotated(CarbonAnnotations.maxDelay, "2h"), signal: .available(SignalFixture.dirty(at: now)),
            wantOutcome: .deferred(deadline: now.addingTimeInterval(7200)),
            wantOps: [
                "add /spec/suspend true",
                #"add /metadata/labels {"carbon-aware.io/managed":"true"}"#,
                "add /metadata/annotations/carbon-aware.io~1intensity-at-submission \"420\"",
                "add /metadata/annotations/carbon-aware.io~1state \"deferred\"",
                "add /metadata/annotations/carbon-aware.io~1deadline \"2026-12-03T12:00:00Z\"",
            ]),
        Case(
            name: "a CronJob's Job is held until its scheduled time + maxDelay, not its creation time",
            job: .carbonAware().annotated(CarbonAnnotations.maxDelay, "1h").ownedByCronJob(scheduledAt: now.addingTimeInterval(-600))
                .created(at: now),
            signal: .available(SignalFixture.dirty(at: now)), wantOutcome: .deferred(deadline: now.addingTimeInterval(3000))),
        Case(
            name: "a Job whose deadline has passed at admission runs at once on the fallback pool",
            job: .carbonAware().annotated(CarbonAnnotations.maxDelay, "1h").ownedByCronJob(scheduledAt: now.addingTimeInterval(-7200)),
            signal: .available(SignalFixture.dirty(at: now)), wantOutcome: .bypassed(.deadlinePassed, pool: "default"),
            wantWarning: "has already passed"),
        Case(
            name: "signal unavailable with onSignalUnavailable run: runs now on the fallback pool, with a warning",
            job: .carbonAware(), signal: .unavailable(reason: "connection refused"), wantOutcome: .bypassed(.signalUnavailable, pool: "default"),
            wantOps: [
                "add /metadata/annotations/carbon-aware.io~1state \"bypassed\"",
                #"add /spec/template/spec/affinity {"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"preference":{"matchExpressions":[{"key":"karpenter.sh/nodepool","operator":"In","values":["default"]}]},"weight":100}]}}"#,
            ],
            wantWarning: "connection refused"),
        Case(
            name: "signal unavailable with onSignalUnavailable wait: held until the deadline, with a warning",
            job: .carbonAware(), spec: CarbonAwarePolicySpec(maxDelay: "3h", onSignalUnavailable: "wait"),
            signal: .unavailable(reason: "timeout"), wantOutcome: .deferred(deadline: now.addingTimeInterval(10_800)), wantWarning: "onSignalUnavailable: wait"),
        Case(
            name: "the policy's threshold decides green over the signal's own flag",
            job: .carbonAware(), spec: CarbonAwarePolicySpec(greenThreshold: 450), signal: .available(SignalFixture.dirty(at: now)),
            wantOutcome: .admittedGreen(pool: "green-batch")),
        Case(
            name: "a threshold below the intensity holds even when the signal says green",
            job: .carbonAware(), spec: CarbonAwarePolicySpec(greenThreshold: 50), signal: .available(SignalFixture.green(at: now)),
            wantOutcome: .deferred(deadline: now.addingTimeInterval(21_600))),
        Case(
            name: "an unparseable max-delay falls back to the policy's and says so",
            job: .carbonAware().annotated(CarbonAnnotations.maxDelay, "abc"), spec: CarbonAwarePolicySpec(maxDelay: "30m"),
            signal: .available(SignalFixture.dirty(at: now)), wantOutcome: .deferred(deadline: now.addingTimeInterval(1800)),
            wantWarning: "invalid duration \"abc\""),
        Case(
            name: "an unknown mode falls back to prefer and says so",
            job: .carbonAware().annotated(CarbonAnnotations.mode, "always"), signal: .available(SignalFixture.green(at: now)),
            wantOutcome: .admittedGreen(pool: "green-batch"), wantWarning: "unknown mode \"always\""),
        Case(
            name: "a required affinity that excludes the green pool gets nothing injected and a warning",
            job: .carbonAware().podSpec("affinity", ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [["matchExpressions": [["key": "karpenter.sh/nodepool", "operator": "In", "values": ["gpu"]]]]]]]]),
            signal: .available(SignalFixture.green(at: now)), wantOutcome: .admittedGreen(pool: "green-batch"),
            wantOps: [
                "add /metadata/annotations/carbon-aware.io~1intensity-at-submission \"80\"",
                "add /metadata/annotations/carbon-aware.io~1state \"admitted-green\"",
                "add /metadata/annotations/carbon-aware.io~1intensity-at-decision \"80\"",
            ],
            wantWarning: "required node affinity excludes karpenter.sh/nodepool=green-batch"),
    ]

    @Test("admission", arguments: cases)
    func decides(_ testCase: Case) {
        let job = testCase.job.job
        let resolution = PolicyFixture.resolution(for: job, spec: testCase.spec)
        let decision = AdmissionDecider.decide(job: job, operation: testCase.operation, policy: resolution, signal: testCase.signal, now: now)
        #expect(decision.outcome == testCase.wantOutcome)
        if !testCase.wantOps.isEmpty {
            #expect(decision.patch.map(\.description) == testCase.wantOps)
        }
        if case .unchanged = testCase.wantOutcome {
            #expect(decision.patch.isEmpty)
        }
        if let wantWarning = testCase.wantWarning {
            #expect(decision.warnings.contains { $0.contains(wantWarning) }, "warnings: \(decision.warnings)")
        } else {
            #expect(decision.warnings.isEmpty, "unexpected warnings: \(decision.warnings)")
        }
    }

    @Test("the patch applies to the raw Job and keeps every field the models do not know")
    func patchKeepsUnknownFields() throws {
        let fixture = JobFixture.carbonAware().podSpec("affinity", ["podAntiAffinity": ["x": 1]])
        let decision = AdmissionDecider.decide(job: fixture.job, policy: PolicyFixture.resolution(for: fixture.job), signal: .available(SignalFixture.green(at: now)), now: now)
        let patched = try JSONPatchApplier.apply(decision.patch, to: fixture.json)
        #expect(patched["spec"]?["template"]?["spec"]?["containers"] == fixture.json["spec"]?["template"]?["spec"]?["containers"])
        #expect(patched["spec"]?["template"]?["spec"]?["affinity"]?["podAntiAffinity"] == ["x": 1])
        #expect(patched["spec"]?["backoffLimit"] == 2)
        let job = try patched.decode(as: Job.self)
        #expect(job.spec?.template?.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.count == 1)
    }
}
