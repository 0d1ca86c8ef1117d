import DevAPIControllers
import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import KarbonetesLogging
import Synchronization
import Testing

@Suite("Cron schedules, the Job lifecycle and the CronJob controller")
struct ControllerTests {
    struct ScheduleCase: Sendable, CustomStringConvertible {
        var description: String { "\(schedule) at \(time) \(zone)" }
        var schedule: String
        var time: String
        var zone: String = "UTC"
        var wantMatch: Bool
    }

    static let scheduleCases: [ScheduleCase] = [
        ScheduleCase(schedule: "*/15 * * * *", time: "2026-12-03T10:45:00Z", wantMatch: true),
        ScheduleCase(schedule: "*/15 * * * *", time: "2026-12-03T10:46:00Z", wantMatch: false),
        ScheduleCase(schedule: "0 2 * * *", time: "2026-12-03T02:00:30Z", wantMatch: true),
        ScheduleCase(schedule: "0 2 * * *", time: "2026-12-03T03:00:00Z", wantMatch: false),
        ScheduleCase(schedule: "0 9-17/4 * * mon-fri", time: "2026-12-03T13:00:00Z", wantMatch: true),
        ScheduleCase(schedule: "0 9-17/4 * * mon-fri", time: "2026-12-05T13:00:00Z", wantMatch: false),
        ScheduleCase(schedule: "30 1,13 1 jan,jul *", time: "2026-07-01T13:30:00Z", wantMatch: true),
        ScheduleCase(schedule: "0 0 1 * 0", time: "2026-12-06T00:00:00Z", wantMatch: true),
        ScheduleCase(schedule: "0 2 * * *", time: "2026-12-03T01:00:00Z", zone: "Europe/London", wantMatch: false),
        ScheduleCase(schedule: "0 2 * * *", time: "2026-07-03T01:00:00Z", zone: "Europe/London", wantMatch: true),
        ScheduleCase(schedule: "@hourly", time: "2026-12-03T07:00:00Z", wantMatch: true),
        ScheduleCase(schedule: "0 0 * * 7", time: "2026-12-06T00:00:00Z", wantMatch: true),
    ]

    @Test("five-field schedules with steps, ranges, lists, names, macros and time zones", arguments: scheduleCases)
    func schedules(_ testCase: ScheduleCase) throws {
        let schedule = try CronSchedule(parsing: testCase.schedule)
        let time = try #require(RFC3339.parse(testCase.time))
        #expect(schedule.matches(time, in: try #require(TimeZone(identifier: testCase.zone))) == testCase.wantMatch)
    }

    @Test("unreadable schedules are errors quoting them", arguments: ["* * * *", "61 * * * *", "*/0 * * * *", "a b c d e", "5-1 * * * *"])
    func badSchedules(_ text: String) {
        let error = #expect(throws: CronScheduleError.self) { try CronSchedule(parsing: text) }
        #expect(error?.description.contains(text) == true)
    }

    @Test("the most recent due time is the latest scheduled minute after the last run")
    func mostRecent() throws {
        let schedule = try CronSchedule(parsing: "*/10 * * * *")
        let now = try #require(RFC3339.parse("2026-12-03T10:37:20Z"))
        let utc = try #require(TimeZone(identifier: "UTC"))
        #expect(schedule.mostRecent(atOrBefore: now, after: RFC3339.parse("2026-12-03T10:00:00Z"), in: utc) == RFC3339.parse("2026-12-03T10:30:00Z"))
        #expect(schedule.mostRecent(atOrBefore: now, after: RFC3339.parse("2026-12-03T10:30:00Z"), in: utc) == nil)
    }

    struct LifecycleCase: Sendable, CustomStringConvertible {
        var description: String
        var job: JSONValue
        var secondsLater: TimeInterval
        var want: String
    }

    static let start = RFC3339.parse("2026-12-03T10:00:00Z")!
    static let lifecycleCases: [LifecycleCase] = [
        LifecycleCase(description: "a released Job starts", job: JobFixture.plain().suspended(false).raw, secondsLater: 0, want: "started"),
        LifecycleCase(description: "a suspended Job waits", job: JobFixture.plain().suspended().raw, secondsLater: 0, want: "none"),
        LifecycleCase(description: "a started Job runs until its duration", job: JobFixture.plain().suspended(false).started(at: start).raw, secondsLater: 5, want: "none"),
        LifecycleCase(description: "a started Job completes after its duration", job: JobFixture.plain().suspended(false).started(at: start).raw, secondsLater: 10, want: "complete"),
        LifecycleCase(description: "a started Job suspended again stops and loses its startTime", job: JobFixture.plain().suspended().started(at: start).raw, secondsLater: 5, want: "suspended"),
    ]

    @Test("the Job lifecycle starts released Jobs and completes them after the duration", arguments: lifecycleCases)
    func lifecycle(_ testCase: LifecycleCase) {
        let next = JobLifecycle.nextStatus(of: testCase.job, now: Self.start.addingTimeInterval(testCase.secondsLater), duration: 10)
        switch testCase.want {
        case "started":
            #expect(next?["startTime"] == .string(RFC3339.format(Self.start)))
            #expect(next?["active"] == 1)
        case "complete":
            #expect(next?["succeeded"] == 1)
            #expect(next?["active"] == nil)
            #expect(next?["conditions"]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true)
        case "suspended":
            #expect(next?["startTime"] == nil && next?["active"] == nil)
            #expect(next?["conditions"]?.arrayValue?.contains { $0["type"] == "Suspended" && $0["status"] == "True" } == true)
        default:
            #expect(next == nil)
        }
    }

    @Test("the CronJob controller creates the scheduled Job with labels, annotations, owner and scheduled timestamp, once")
    func cronJobController() async throws {
        let created = Self.start
        let clock = TestClock(created)
        var base = DevAPIStore(now: created)
        try base.create(["metadata": ["name": "batch"]], type: .namespaces, namespace: nil, now: created)
        let template: JSONValue = [
            "metadata": ["labels": ["team": "data"], "annotations": ["carbon-aware.io/enabled": "true"]],
            "spec": JobFixture.plain().raw["spec"]!,
        ]
        try base.create(["metadata": ["name": "nightly"], "spec": ["schedule": "*/5 * * * *", "jobTemplate": template]], type: .cronJobs, namespace: "batch", now: created)
        let shared = SharedStore(store: base, clock: { clock.now })
        let controller = CronJobController(store: shared, logger: .disabled)
        await controller.reconcile()
        #expect(try shared.read { try $0.list(.jobs, namespace: "batch").items }.isEmpty)
        clock.now = created.addingTimeInterval(6 * 60)
        await controller.reconcile()
        await controller.reconcile()
        let jobs = try shared.read { try $0.list(.jobs, namespace: "batch").items }
        #expect(jobs.count == 1)
        let job = try #require(jobs.first)
        let scheduled = created.addingTimeInterval(5 * 60)
        #expect(job["metadata"]?["name"] == .string("nightly-\(Int(scheduled.timeIntervalSince1970 / 60))"))
        #expect(job["metadata"]?["labels"]?["team"] == "data")
        #expect(job["metadata"]?["annotations"]?["carbon-aware.io/enabled"] == "true")
        #expect(job["metadata"]?["annotations"]?[CronJobPlanner.scheduledTimestampAnnotation] == .string(RFC3339.format(scheduled)))
        let owner = try #require(job["metadata"]?["ownerReferences"]?.arrayValue?.first)
        #expect(owner["kind"] == "CronJob" && owner["controller"] == true && owner["name"] == "nightly")
        let cronJob = try shared.read { try $0.get(.cronJobs, namespace: "batch", name: "nightly") }
        #expect(cronJob["status"]?["lastScheduleTime"] == .string(RFC3339.format(scheduled)))
    }

    @Test("the CronJob controller's Jobs go through admission; a refusal creates nothing until a later tick")
    func cronJobAdmission() async throws {
        let created = Self.start
        let clock = TestClock(created)
        var base = DevAPIStore(now: created)
        try base.create(["metadata": ["name": "batch"]], type: .namespaces, namespace: nil, now: created)
        let template: JSONValue = ["spec": JobFixture.plain().raw["spec"]!]
        try base.create(["metadata": ["name": "nightly"], "spec": ["schedule": "*/5 * * * *", "jobTemplate": template]], type: .cronJobs, namespace: "batch", now: created)
        let shared = SharedStore(store: base, clock: { clock.now })
        let refusing = Mutex(true)
        let controller = CronJobController(store: shared, logger: .disabled) { job, namespace in
            if refusing.withLock({ $0 }) { throw StoreError.invalid(.jobs, name: "nightly", field: "metadata", message: "refused by a webhook") }
            return try JSONPatchApplier.apply([.add("/spec/suspend", true)], to: job)
        }
        clock.now = created.addingTimeInterval(6 * 60)
        await controller.reconcile()
        #expect(try shared.read { try $0.list(.jobs, namespace: "batch").items }.isEmpty)
        refusing.withLock { $0 = false }
        await controller.reconcile()
        let jobs = try shared.read { try $0.list(.jobs, namespace: "batch").items }
        #expect(jobs.count == 1)
        #expect(jobs.first?["spec"]?["suspend"] == true)
    }
}

/// A settable clock for controllers under test.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Date
    init(_ start: Date) { stored = start }
    var now: Date {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
