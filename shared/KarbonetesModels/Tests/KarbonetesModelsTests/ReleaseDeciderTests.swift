import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

private let now = Date(timeIntervalSince1970: 1_796_292_000)  // 2026-12-03T10:00:00Z
private let created = now.addingTimeInterval(-3600)

@Suite("Reconcile decisions for held Jobs")
struct ReleaseDeciderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var job: JobFixture
        var spec: CarbonAwarePolicySpec? = nil
        var signal: SignalReading
        var forecast: [ForecastPoint]? = nil
        var wantAction: ReleaseDecider.Action
        var wantWarning: String? = nil
        var testDescription: String { name }
    }

    static func held(deadlineIn seconds: TimeInterval) -> JobFixture {
        JobFixture.carbonAware().created(at: created).resourceVersion("7").held(until: now.addingTimeInterval(seconds))
    }

    static func slot(_ fromHours: Double, _ intensity: Double, green: Bool = false) -> ForecastPoint {
        ForecastPoint(start: now.addingTimeInterval(fromHours * 3600), end: now.addingTimeInterval((fromHours + 1) * 3600), intensity: intensity, green: green)
    }

    static let cases: [Case] = [
        Case(
            name: "a Job past maxDelay is released to the fallback pool",
            job: held(deadlineIn: -1), signal: .available(SignalFixture.dirty(at: now)),
            wantAction: .release(pool: BuiltInDefaults.fallbackPool, kind: .fallback, reason: .maxDelay)),
        Case(
            name: "a Job exactly at its deadline is released to the fallback pool",
            job: held(deadlineIn: 0), signal: .available(SignalFixture.dirty(at: now)),
            wantAction: .release(pool: BuiltInDefaults.fallbackPool, kind: .fallback, reason: .maxDelay)),
        Case(
            name: "one second before the deadline a dirty grid waits until the deadline",
            job: held(deadlineIn: 1), signal: .available(SignalFixture.dirty(at: now)),
            wantAction: .wait(until: now.addingTimeInterval(1), reason: .notGreen)),
        Case(
            name: "the deadline wins even when the signal is down",
            job: held(deadlineIn: -30), signal: .unavailable(reason: "503"),
            wantAction: .release(pool: BuiltInDefaults.fallbackPool, kind: .fallback, reason: .maxDelay)),
        Case(
            name: "a green grid releases to the green pool",
            job: held(deadlineIn: 3600), signal: .available(SignalFixture.green(at: now)),
            wantAction: .release(pool: BuiltInDefaults.greenPool, kind: .green, reason: .greenWindow)),
        Case(
            name: "a dirty grid waits for the earliest of the next green start, the recheck and the deadline",
            job: held(deadlineIn: 7200), spec: CarbonAwarePolicySpec(recheckInterval: "1h"),
            signal: .available(SignalFixture.dirty(at: now, nextGreenIn: 1200)),
            wantAction: .wait(until: now.addingTimeInterval(1200), reason: .notGreen)),
        Case(
            name: "a dirty grid with no green ahead rechecks at the recheck interval",
            job: held(deadlineIn: 7200), signal: .available(SignalFixture.dirty(at: now, nextGreenIn: nil)),
            wantAction: .wait(until: now.addingTimeInterval(300), reason: .notGreen)),
        Case(
            name: "the signal down: wait no longer than the recheck interval",
            job: held(deadlineIn: 7200), signal: .unavailable(reason: "connection refused"),
            wantAction: .wait(until: now.addingTimeInterval(300), reason: .signalUnavailable)),
        Case(
            name: "release-now releases at once, to the fallback pool when not green",
            job: held(deadlineIn: 7200).annotated(CarbonAnnotations.releaseNow, "true"), signal: .available(SignalFixture.dirty(at: now)),
            wantAction: .release(pool: BuiltInDefaults.fallbackPool, kind: .fallback, reason: .manual)),
        Case(
            name: "release-now releases to the green pool when green",
            job: held(deadlineIn: 7200).annotated(CarbonAnnotations.releaseNow, "true"), signal: .available(SignalFixture.green(at: now)),
            wantAction: .release(pool: BuiltInDefaults.greenPool, kind: .green, reason: .manual)),
        Case(
            name: "a Job a user unsuspended by hand is left alone",
            job: held(deadlineIn: 7200).suspended(false), signal: .available(SignalFixture.green(at: now)),
            wantAction: .leaveAlone(.unsuspendedByUser)),
        Case(
            name: "a finished Job is left alone",
            job: held(deadlineIn: -5).finished(), signal: .available(SignalFixture.green(at: now)), wantAction: .leaveAlone(.finished)),
        Case(
            name: "a Job being deleted is left alone",
            job: held(deadlineIn: -5).deleting(at: now), signal: .available(SignalFixture.green(at: now)), wantAction: .leaveAlone(.beingDeleted)),
        Case(
            name: "a released Job is not released again",
            job: held(deadlineIn: -5).annotated(CarbonAnnotations.state, "released"), signal: .available(SignalFixture.green(at: now)),
            wantAction: .leaveAlone(.notHeld)),
        Case(
            name: "a Job that has started cannot be steered and is left alone",
            job: held(deadlineIn: -5).started(at: created), signal: .available(SignalFixture.green(at: now)), wantAction: .leaveAlone(.alreadyStarted)),
        Case(
            name: "an unreadable deadline falls back to creation + maxDelay, with a warning",
            job: held(deadlineIn: 9999).annotated(CarbonAnnotations.deadline, "tomorrow").annotated(CarbonAnnotations.maxDelay, "30m"),
            signal: .available(SignalFixture.dirty(at: now)),
            wantAction: .release(pool: BuiltInDefaults.fallbackPool, kind: .fallback, reason: .maxDelay), wantWarning: "\"tomorrow\" is not an RFC 3339 time"),
        Case(
            name: "forecast: wait for the lowest slot before the deadline",
            job: held(deadlineIn: 5 * 3600), spec: CarbonAwarePolicySpec(strategy: "forecast", recheckInterval: "6h"),
            signal: .available(SignalFixture.dirty(intensity: 300, at: now)),
            forecast: [slot(0, 300), slot(1, 250), slot(2, 120), slot(3, 200), slot(6, 10)],
            wantAction: .wait(until: now.addingTimeInterval(7200), reason: .waitingForForecastSlot)),
        Case(
            name: "forecast: release now when nothing ahead beats the present",
            job: held(deadlineIn: 5 * 3600), spec: CarbonAwarePolicySpec(strategy: "forecast"),
            signal: .available(SignalFixture.dirty(intensity: 100, at: now)), forecast: [slot(0, 100), slot(1, 250), slot(2, 120)],
            wantAction: .release(pool: BuiltInDefaults.greenPool, kind: .green, reason: .forecastBest)),
        Case(
            name: "forecast without a forecast behaves as firstGreen",
            job: held(deadlineIn: 3600), spec: CarbonAwarePolicySpec(strategy: "forecast"), signal: .available(SignalFixture.green(at: now)), forecast: nil,
            wantAction: .release(pool: BuiltInDefaults.greenPool, kind: .green, reason: .greenWindow)),
    ]

    @Test("reconcile", arguments: cases)
    func decides(_ testCase: Case) {
        let job = testCase.job.job
        let resolution = PolicyFixture.resolution(for: job, spec: testCase.spec)
        let decision = ReleaseDecider.decide(job: job, policy: resolution, signal: testCase.signal, forecast: testCase.forecast, now: now)
        #expect(decision.action == testCase.wantAction)
        if let wantWarning = testCase.wantWarning {
            #expect(decision.warnings.contains { $0.contains(wantWarning) }, "warnings: \(decision.warnings)")
        } else {
            #expect(decision.warnings.isEmpty, "unexpected warnings: \(decision.warnings)")
        }
        if case .release = decision.action {
            #expect(!decision.patch.isEmpty)
        } else {
            #expect(decision.patch.isEmpty)
        }
    }

    @Test("a release is one patch: resourceVersion guard, unsuspend, steering and the record of why")
    func releasePatch() throws {
        let fixture = Self.held(deadlineIn: 600)
        let job = fixture.job
        let decision = ReleaseDecider.decide(job: job, policy: PolicyFixture.resolution(for: job), signal: .available(SignalFixture.green(intensity: 95.25, at: now)), now: now)
        #expect(decision.patch.map(\.description) == [
            "replace /metadata/resourceVersion \"7\"",
            "replace /spec/suspend false",
            #"add /spec/template/spec/affinity {"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"preference":{"matchExpressions":[{"key":"karpenter.sh/nodepool","operator":"In","values":["green-batch"]}]},"weight":100}]}}"#,
            #"add /spec/template/spec/tolerations [{"effect":"NoSchedule","key":"carbon-aware.io/green","operator":"Equal","value":"true"}]"#,
            "add /metadata/annotations/carbon-aware.io~1state \"released\"",
            "add /metadata/annotations/carbon-aware.io~1released-at \"2026-12-03T10:00:00Z\"",
            "add /metadata/annotations/carbon-aware.io~1release-reason \"green-window\"",
            "add /metadata/annotations/carbon-aware.io~1intensity-at-decision \"95.3\"",
        ])
        let released = try JSONPatchApplier.apply(decision.patch, to: fixture.json).decode(as: Job.self)
        #expect(released.spec?.suspend == false)
        #expect(released.metadata.annotation(CarbonAnnotations.state) == "released")
        // Level-triggered and idempotent: the released Job decides to do nothing more.
        let again = ReleaseDecider.decide(job: released, policy: PolicyFixture.resolution(for: released), signal: .available(SignalFixture.green(at: now)), now: now)
        #expect(again.action == .leaveAlone(.notHeld))
    }

    @Test("a release to a pool the Job already tolerates and prefers adds no steering ops")
    func idempotentInjection() throws {
        let fixture = Self.held(deadlineIn: 600)
            .podSpec("tolerations", [["key": "carbon-aware.io/green", "operator": "Exists"]])
            .podSpec("affinity", ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [["weight": 5, "preference": ["matchExpressions": [["key": "karpenter.sh/nodepool", "operator": "In", "values": ["green-batch"]]]]]]]])
        let job = fixture.job
        let decision = ReleaseDecider.decide(job: job, policy: PolicyFixture.resolution(for: job), signal: .available(SignalFixture.green(at: now)), now: now)
        #expect(!decision.patch.contains { $0.path.hasPrefix("/spec/template") })
    }
}
