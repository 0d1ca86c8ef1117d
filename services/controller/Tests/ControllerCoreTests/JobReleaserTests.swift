import ControllerCore
import Foundation
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesModelsTestKit
import Synchronization
import Testing

private let now = Date(timeIntervalSince1970: 1_796_292_000)

/// An in-memory Job API with the API server's patch semantics: JSON patch applied to the
/// stored object, a `/metadata/resourceVersion` that does not match answered 409, and a new
/// resourceVersion on every write. Its "cache" can be made stale on purpose.
final class FakeJobAPI: JobCache, JobWriter {
    private struct State {
        var stored: [ObjectKey: JSONValue] = [:]
        var cached: [ObjectKey: JSONValue] = [:]
        var version = 100
        var writes = 0
    }

    private let state = Mutex(State())

    func create(_ fixture: JobFixture) {
        state.withLock { state in
            state.version += 1
            let object = try! JSONPatchApplier.apply([.add("/metadata/resourceVersion", .string(String(state.version)))], to: fixture.json)
            let key = try! object.decode(as: Job.self).key
            state.stored[key] = object
            state.cached[key] = object
        }
    }

    /// Changes the stored object behind the cache's back (another writer).
    func mutateStored(_ key: ObjectKey, _ ops: [JSONPatchOperation]) {
        state.withLock { state in
            state.version += 1
            state.stored[key] = try! JSONPatchApplier.apply(ops + [.replace("/metadata/resourceVersion", .string(String(state.version)))], to: state.stored[key]!)
        }
    }

    var writes: Int { state.withLock { $0.writes } }
    func stored(_ key: ObjectKey) -> Job? { state.withLock { try? $0.stored[key]?.decode(as: Job.self) } }

    func job(_ key: ObjectKey) -> Job? { state.withLock { try? $0.cached[key]?.decode(as: Job.self) } }
    func heldJobs() -> [Job] { state.withLock { $0.cached.values.compactMap { try? $0.decode(as: Job.self) } } }

    func patch(_ key: ObjectKey, _ operations: [JSONPatchOperation]) async throws(JobWriteError) -> String? {
        let result: Result<String?, JobWriteError> = state.withLock { state in
            guard let current = state.stored[key] else { return .failure(JobWriteError(kind: .notFound, key: key, message: "not found")) }
            let patched: JSONValue
            do {
                patched = try JSONPatchApplier.apply(operations, to: current)
            } catch {
                return .failure(JobWriteError(kind: .rejected, key: key, message: String(describing: error)))
            }
            guard patched["metadata"]?["resourceVersion"] == current["metadata"]?["resourceVersion"] else {
                return .failure(JobWriteError(kind: .conflict, key: key, message: "the object has been modified"))
            }
            state.version += 1
            state.writes += 1
            let written = try! JSONPatchApplier.apply([.replace("/metadata/resourceVersion", .string(String(state.version)))], to: patched)
            state.stored[key] = written
            state.cached[key] = written
            return .success(try! written.decode(as: Job.self).metadata.resourceVersion)
        }
        return try result.get()
    }

    func fetch(_ key: ObjectKey) async throws(JobWriteError) -> Job? {
        state.withLock { state in
            if let stored = state.stored[key] { state.cached[key] = stored }
            return try? state.stored[key]?.decode(as: Job.self)
        }
    }
}

struct FixedSignalProvider: SignalProvider {
    var current: SignalReading
    var points: [ForecastPoint]? = nil
    func reading(region: String) async -> SignalReading { current }
    func forecast(region: String) async -> [ForecastPoint]? { points }
}

final class RecordedEvents: EventSink {
    let events = Mutex<[(String, String)]>([])
    func record(_ job: Job, type: EventType, reason: String, message: String) async {
        events.withLock { $0.append((reason, message)) }
    }
    var reasons: [String] { events.withLock { $0.map(\.0) } }
}

func releaser(_ api: FakeJobAPI, signal: SignalReading, policies: [CarbonAwarePolicy] = [], events: RecordedEvents = RecordedEvents(), registry: MetricsRegistry = MetricsRegistry(), pacer: ReleasePacer = ReleasePacer()) -> JobReleaser {
    JobReleaser(cache: api, writer: api, policies: StaticPolicies(policies), signal: FixedSignalProvider(current: signal), events: events, pacer: pacer, metrics: ControllerMetrics(registry: registry), logger: .disabled, now: { now })
}

private let key = ObjectKey(namespace: "batch", name: "report")

func heldJob(deadlineIn seconds: TimeInterval, name: String = "report") -> JobFixture {
    JobFixture.carbonAware(name: name).created(at: now.addingTimeInterval(-3600)).annotated(CarbonAnnotations.intensityAtSubmission, "400").held(until: now.addingTimeInterval(seconds))
}

@Suite("Releasing held Jobs")
struct JobReleaserTests {
    @Test("a Job past maxDelay is released to the fallback pool, with one write and an Event")
    func pastDeadline() async throws {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: -1))
        let events = RecordedEvents()
        let result = await releaser(api, signal: .available(SignalFixture.dirty(at: now)), events: events).reconcile(key)
        #expect(result == .done)
        let job = try #require(api.stored(key))
        #expect(job.spec?.suspend == false)
        #expect(job.metadata.annotation(CarbonAnnotations.releaseReason) == "max-delay")
        #expect(job.spec?.template?.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.first?.preference.matchExpressions?.first?.values == ["default"])
        #expect(api.writes == 1)
        #expect(events.reasons == ["Released"])
    }

    @Test("a green grid releases to the green pool, and reconciling again writes nothing (nor counts a release)")
    func greenOnce() async throws {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        let releaser = releaser(api, signal: .available(SignalFixture.green(at: now)))
        #expect(await releaser.reconcile(key) == .done)
        #expect(await releaser.reconcile(key) == .done)
        #expect(api.writes == 1)
        #expect(releaser.releasedCount == 1)
        #expect(api.stored(key)?.metadata.annotation(CarbonAnnotations.releaseReason) == "green-window")
    }

    @Test("a dirty grid requeues for the exact time the decision needs")
    func requeueAtTime() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        let result = await releaser(api, signal: .available(SignalFixture.dirty(at: now, nextGreenIn: 120))).reconcile(key)
        #expect(result == .requeue(after: 120))
        #expect(api.writes == 0)
    }

    @Test("a held Job gets one Deferred Event per hold, not one per recheck")
    func deferredOnce() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        let events = RecordedEvents()
        let releaser = releaser(api, signal: .available(SignalFixture.dirty(at: now)), events: events)
        _ = await releaser.reconcile(key)
        _ = await releaser.reconcile(key)
        #expect(events.reasons == ["Deferred"])
        #expect(events.events.withLock { $0.first?.1.contains("2026-12-03T11:00:00Z") } == true)
    }

    @Test("a stale cache's release hits a conflict, re-reads, and does not release a Job someone else already released")
    func staleCacheConflict() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        api.mutateStored(key, [.replace("/spec/suspend", false), .replace("/metadata/annotations/carbon-aware.io~1state", "released")])
        let result = await releaser(api, signal: .available(SignalFixture.green(at: now))).reconcile(key)
        #expect(result == .done)
        #expect(api.writes == 0)
    }

    @Test("a stale cache of a Job a user edited is re-read and released from the fresh object")
    func staleCacheUserEdit() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        api.mutateStored(key, [.add("/metadata/labels/team", "a")])
        let result = await releaser(api, signal: .available(SignalFixture.green(at: now))).reconcile(key)
        #expect(result == .done)
        #expect(api.writes == 1)
        #expect(api.stored(key)?.metadata.label("team") == "a")
    }

    @Test("the signal down for good: the Job is released at its deadline")
    func signalDown() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 0))
        #expect(await releaser(api, signal: .unavailable(reason: "down")).reconcile(key) == .done)
        #expect(api.stored(key)?.metadata.annotation(CarbonAnnotations.releaseReason) == "max-delay")
    }

    @Test("a Job deleted before its release is done")
    func deleted() async {
        let api = FakeJobAPI()
        #expect(await releaser(api, signal: .available(SignalFixture.green(at: now))).reconcile(key) == .done)
    }

    @Test("pacing holds back green releases beyond the rate, but never a deadline")
    func pacing() async {
        let api = FakeJobAPI()
        for index in 0..<4 { api.create(heldJob(deadlineIn: 3600, name: "green-\(index)")) }
        api.create(heldJob(deadlineIn: -1, name: "late"))
        let policy = PolicyFixture.policy(CarbonAwarePolicySpec(releaseRatePerMinute: 2))
        let releaser = releaser(api, signal: .available(SignalFixture.green(at: now)), policies: [policy])
        var requeued = 0
        for index in 0..<4 {
            if case .requeue = await releaser.reconcile(ObjectKey(namespace: "batch", name: "green-\(index)")) { requeued += 1 }
        }
        #expect(requeued == 2)
        #expect(await releaser.reconcile(ObjectKey(namespace: "batch", name: "late")) == .done)
        #expect(api.writes == 3)
    }

    @Test("emissions avoided count (intensity at submission - at release) x energy")
    func emissionsAvoided() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600).annotated(CarbonAnnotations.estimatedEnergyKWh, "2.5"))
        let registry = MetricsRegistry()
        _ = await releaser(api, signal: .available(SignalFixture.green(intensity: 100, at: now)), registry: registry).reconcile(key)
        let metrics = ControllerMetrics(registry: registry)
        #expect(metrics.emissionsAvoided.value() == 750)
        #expect(metrics.releases.value(labels: ["reason": "green-window", "pool": "green-batch"]) == 1)
    }

    @Test("held gauges count held Jobs per namespace and policy, and those past their deadline")
    func heldGauges() async {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600, name: "a"))
        api.create(heldJob(deadlineIn: -600, name: "b"))
        let registry = MetricsRegistry()
        releaser(api, signal: .available(SignalFixture.dirty(at: now)), registry: registry).updateHeldGauges()
        let metrics = ControllerMetrics(registry: registry)
        #expect(metrics.heldJobs.value(labels: ["namespace": "batch", "policy": "default"]) == 2)
        #expect(metrics.heldPastDeadline.value() == 1)
    }

    @Test("a namespace and policy whose last held Job was released goes back to 0 held")
    func heldGaugeGoesToZero() async {
        let api = FakeJobAPI()
        let registry = MetricsRegistry()
        let releaser = releaser(api, signal: .available(SignalFixture.dirty(at: now)), registry: registry)
        releaser.updateHeldGauges(held: [heldJob(deadlineIn: 3600, name: "a").job, heldJob(deadlineIn: 3600, name: "b").job])
        let metrics = ControllerMetrics(registry: registry)
        #expect(metrics.heldJobs.value(labels: ["namespace": "batch", "policy": "default"]) == 2)
        releaser.updateHeldGauges(held: [])
        #expect(metrics.heldJobs.value(labels: ["namespace": "batch", "policy": "default"]) == 0)
    }

    @Test("the Released Event refers to the Job as written (its new resourceVersion)")
    func releasedEventReference() async throws {
        let api = FakeJobAPI()
        api.create(heldJob(deadlineIn: 3600))
        let events = ReferencedEvents()
        let releaser = JobReleaser(
            cache: api, writer: api, policies: StaticPolicies([]), signal: FixedSignalProvider(current: .available(SignalFixture.green(at: now))),
            events: events, metrics: ControllerMetrics(registry: MetricsRegistry()), logger: .disabled, now: { now })
        #expect(await releaser.reconcile(key) == .done)
        let written = try #require(api.stored(key))
        #expect(events.versions == [written.metadata.resourceVersion])
    }
}

/// Records the resourceVersion of each Event's Job.
final class ReferencedEvents: EventSink {
    private let seen = Mutex<[String?]>([])
    func record(_ job: Job, type: EventType, reason: String, message: String) async {
        seen.withLock { $0.append(job.metadata.resourceVersion) }
    }
    var versions: [String?] { seen.withLock { $0 } }
}

@Suite("Which Jobs are held and which changes are reconciled")
struct HeldJobsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var job: JobFixture
        var wantHeld: Bool
        var wantReconcile: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "held by the webhook", job: heldJob(deadlineIn: 60), wantHeld: true, wantReconcile: true),
        Case(name: "held, release-now asked", job: heldJob(deadlineIn: 60).annotated(CarbonAnnotations.releaseNow, "true"), wantHeld: true, wantReconcile: true),
        Case(name: "released by the controller", job: heldJob(deadlineIn: 60).annotated(CarbonAnnotations.state, CarbonState.released.rawValue).suspended(false), wantHeld: false, wantReconcile: false),
        Case(name: "deferred but unsuspended by a user", job: heldJob(deadlineIn: 60).suspended(false), wantHeld: false, wantReconcile: true),
        Case(name: "carbon-aware, never held", job: JobFixture.carbonAware(name: "c"), wantHeld: false, wantReconcile: false),
    ]

    @Test("held Jobs are indexed, and only deferred ones are reconciled on a change", arguments: cases)
    func heldAndReconciled(_ testCase: Case) {
        let job = testCase.job.job
        #expect(HeldJobs.isHeld(job) == testCase.wantHeld)
        #expect(HeldJobs.index(job) == (testCase.wantHeld ? [HeldJobs.indexValue] : []))
        #expect(HeldJobs.needsReconcile(job) == testCase.wantReconcile)
    }
}

@Suite("Waking regions and policy status")
struct RegionAndStatusTests {
    @Test("a region that turns green is reported once, not while it stays green")
    func flips() {
        var detector = GreenFlipDetector()
        #expect(detector.observe(region: "ES", green: false) == false)
        #expect(detector.observe(region: "ES", green: true) == true)
        #expect(detector.observe(region: "ES", green: true) == false)
        #expect(detector.observe(region: "ES", green: false) == false)
        #expect(detector.observe(region: "ES", green: true) == true)
        #expect(detector.observe(region: "NO", green: true) == true)
    }

    @Test("held Jobs are grouped by the region their policy resolves to")
    func groupsByRegion() {
        let jobs = [
            heldJob(deadlineIn: 60, name: "a").job,
            heldJob(deadlineIn: 60, name: "b").annotated(CarbonAnnotations.region, "ES").job,
            JobFixture.carbonAware(name: "c").job,
        ]
        let groups = HeldJobsByRegion.group(jobs, policies: StaticPolicies([PolicyFixture.policy(CarbonAwarePolicySpec(region: "NO"))]))
        #expect(groups == ["NO": [ObjectKey(namespace: "batch", name: "a")], "ES": [ObjectKey(namespace: "batch", name: "b")]])
    }

    @Test("policy status is patched only when the held count or generation changed")
    func statusPatch() throws {
        var policy = PolicyFixture.policy(CarbonAwarePolicySpec())
        let patch = try #require(PolicyStatus.patch(for: policy, heldJobs: 3, now: now))
        #expect(patch["status"]?["heldJobs"] == 3)
        policy.status = PolicyStatus.desired(for: policy, heldJobs: 3, now: now)
        #expect(PolicyStatus.patch(for: policy, heldJobs: 3, now: now) == nil)
        #expect(PolicyStatus.patch(for: policy, heldJobs: 4, now: now) != nil)
        #expect(PolicyStatus.heldCounts([heldJob(deadlineIn: 5, name: "x").job, heldJob(deadlineIn: 5, name: "y").job]) == [ObjectKey(namespace: "batch", name: "default"): 2])
    }
}

@Suite("Release metadata")
struct ControllerVersionTests {
    @Test("--version prints the package's VERSION file")
    func versionMatchesFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("VERSION")
        #expect(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == ControllerVersion.current)
    }
}
