public import DevAPIStore
public import Foundation
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesModels

/// What the minimal Job lifecycle does to one Job at `now`, as a pure function: a Job that
/// is not suspended and has not started gets `startTime` and `active: 1`; a started Job
/// suspended again loses them and gets `Suspended`; a started one completes (`succeeded: 1`, `completionTime`, `SuccessCriteriaMet` and `Complete`
/// conditions) once it has run for `duration`. Nil when nothing is to change.
public enum JobLifecycle {
    public static func nextStatus(of job: JSONValue, now: Date, duration: TimeInterval) -> JSONValue? {
        let status = job["status"] ?? .object([:])
        let conditions = status["conditions"]?.arrayValue ?? []
        if conditions.contains(where: { ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True" }) { return nil }
        let suspended = job["spec"]?["suspend"] == .bool(true)
        guard let startText = status["startTime"]?.stringValue, let start = RFC3339.parse(startText) else {
            if suspended { return nil }
            var next = status.objectValue ?? [:]
            next["startTime"] = .string(RFC3339.format(now))
            next["active"] = 1
            next["ready"] = 0
            if let index = conditions.firstIndex(where: { $0["type"] == "Suspended" && $0["status"] == "True" }), case .object(var resumed) = conditions[index] {
                resumed["status"] = "False"
                resumed["reason"] = "JobResumed"
                resumed["message"] = "Job resumed"
                resumed["lastTransitionTime"] = .string(RFC3339.format(now))
                var updated = conditions
                updated[index] = .object(resumed)
                next["conditions"] = .array(updated)
            }
            return .object(next)
        }
        if suspended {
            // As the Job controller does on suspension: no pods, the start time reset (so
            // the template's scheduling fields may change again), a Suspended condition.
            var next = status.objectValue ?? [:]
            next["active"] = nil
            next["ready"] = 0
            next["startTime"] = nil
            let time = JSONValue.string(RFC3339.format(now))
            next["conditions"] = .array(conditions.filter { $0["type"] != "Suspended" } + [
                ["type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended", "lastProbeTime": time, "lastTransitionTime": time]
            ])
            return .object(next)
        }
        guard now.timeIntervalSince(start) >= duration else { return nil }
        let time = JSONValue.string(RFC3339.format(now))
        var next = status.objectValue ?? [:]
        next["active"] = nil
        next["ready"] = 0
        next["succeeded"] = 1
        next["completionTime"] = time
        next["conditions"] = .array(conditions + [
            ["type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": time, "lastTransitionTime": time],
            ["type": "Complete", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods", "lastProbeTime": time, "lastTransitionTime": time],
        ])
        return .object(next)
    }
}

/// Runs ``JobLifecycle`` over every Job a few times a second, writing through the status
/// subresource, so that a demo's released Jobs start and complete as on a cluster.
public struct JobLifecycleController: Service {
    let store: SharedStore
    let duration: TimeInterval
    let interval: Duration
    let logger: Logger

    public init(store: SharedStore, duration: TimeInterval, interval: Duration = .milliseconds(250), logger: Logger) {
        self.store = store
        self.duration = duration
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled {
            reconcile()
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass over every Job (tests call it directly).
    public func reconcile() {
        let now = store.now
        let jobs = (try? store.read { store throws(StoreError) in try store.list(.jobs, namespace: nil).items }) ?? []
        for job in jobs {
            guard let next = JobLifecycle.nextStatus(of: job, now: now, duration: duration),
                let name = job["metadata"]?["name"]?.stringValue, let namespace = job["metadata"]?["namespace"]?.stringValue
            else { continue }
            var updated = job
            if case .object(var members) = updated {
                members["status"] = next
                updated = .object(members)
            }
            let body = updated
            do {
                try store.write { store, now throws(StoreError) in
                    try store.update(body, type: .jobs, namespace: namespace, name: name, statusOnly: true, now: now)
                }
                logger.info("job status advanced", metadata: ["job.namespace": namespace, "job.name": name, "job.active": next["active"] == nil ? "0" : "1"])
            } catch {
                logger.debug("job status not advanced, retried next pass", metadata: ["job.namespace": namespace, "job.name": name, "error": "\(error)"])
            }
        }
    }
}

/// The Job a CronJob creates for its schedule time, as the CronJob controller builds it:
/// `<cronjob>-<minutes since the epoch>`, the template's labels and annotations, the
/// `cronjob-scheduled-timestamp` annotation and a controller owner reference.
public enum CronJobPlanner {
    public static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    public static func job(for cronJob: JSONValue, scheduledAt time: Date) -> JSONValue? {
        guard let name = cronJob["metadata"]?["name"]?.stringValue, let uid = cronJob["metadata"]?["uid"]?.stringValue,
            let template = cronJob["spec"]?["jobTemplate"]
        else { return nil }
        var annotations = template["metadata"]?["annotations"]?.objectValue ?? [:]
        annotations[scheduledTimestampAnnotation] = .string(RFC3339.format(time))
        var metadata: [String: JSONValue] = [
            "name": .string("\(name)-\(Int(time.timeIntervalSince1970 / 60))"),
            "annotations": .object(annotations),
            "ownerReferences": [["apiVersion": "batch/v1", "kind": "CronJob", "name": .string(name), "uid": .string(uid), "controller": true, "blockOwnerDeletion": true]],
        ]
        if let labels = template["metadata"]?["labels"] { metadata["labels"] = labels }
        if let namespace = cronJob["metadata"]?["namespace"] { metadata["namespace"] = namespace }
        return ["apiVersion": "batch/v1", "kind": "Job", "metadata": .object(metadata), "spec": template["spec"] ?? .object([:])]
    }

    /// The schedule time to run now, if one is due (the latest since the last run, else since
    /// the CronJob's creation).
    public static func due(_ cronJob: JSONValue, now: Date) throws(CronScheduleError) -> Date? {
        guard cronJob["spec"]?["suspend"] != .bool(true), let text = cronJob["spec"]?["schedule"]?.stringValue else { return nil }
        let schedule = try CronSchedule(parsing: text)
        let zone = cronJob["spec"]?["timeZone"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let last = (cronJob["status"]?["lastScheduleTime"]?.stringValue).flatMap(RFC3339.parse)
            ?? (cronJob["metadata"]?["creationTimestamp"]?.stringValue).flatMap(RFC3339.parse)
        return schedule.mostRecent(atOrBefore: now, after: last, in: zone)
    }
}

/// Creates Jobs from CronJobs on schedule (UTC, or `spec.timeZone`), once a second. Each Job
/// goes through admission first, because kube-controller-manager creates them through the
/// API server and so every mutating webhook (Karbonetes' among them) sees them.
public struct CronJobController: Service {
    let store: SharedStore
    let interval: Duration
    let logger: Logger
    let admit: CreateAdmission?

    public init(store: SharedStore, interval: Duration = .seconds(1), logger: Logger, admit: CreateAdmission? = nil) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.admit = admit
    }

    public func run() async throws {
        while !Task.isCancelled {
            await reconcile()
            try? await Task.sleep(for: interval)
        }
    }

    public func reconcile() async {
        let now = store.now
        let cronJobs = (try? store.read { store throws(StoreError) in try store.list(.cronJobs, namespace: nil).items }) ?? []
        for cronJob in cronJobs {
            let namespace = cronJob["metadata"]?["namespace"]?.stringValue ?? ""
            let name = cronJob["metadata"]?["name"]?.stringValue ?? ""
            let time: Date
            do {
                guard let due = try CronJobPlanner.due(cronJob, now: now) else { continue }
                time = due
            } catch {
                logger.warning("cronjob schedule unreadable", metadata: ["cronjob.namespace": namespace, "cronjob.name": name, "error": error.description])
                continue
            }
            guard var job = CronJobPlanner.job(for: cronJob, scheduledAt: time) else { continue }
            let jobName = job["metadata"]?["name"]?.stringValue ?? ""
            let alreadyCreated = (try? store.read { store throws(StoreError) in try store.get(.jobs, namespace: namespace, name: jobName) }) != nil
            if let admit, !alreadyCreated {
                do {
                    job = try await admit(job, namespace)
                } catch {
                    logger.warning("admission refused the cronjob's job; retrying next tick", metadata: ["cronjob.namespace": namespace, "cronjob.name": name, "error": "\(error)"])
                    continue
                }
            }
            let admittedJob = job
            let statusPatch = Data(#"{"status":{"lastScheduleTime":"\#(RFC3339.format(time))"}}"#.utf8)
            do {
                try store.write { store, now throws(StoreError) in
                    do throws(StoreError) {
                        try store.create(admittedJob, type: .jobs, namespace: namespace, now: now)
                    } catch {
                        // 409: already created for this schedule time (before a restart): only the status is behind.
                        guard error.code == 409 else { throw error }
                    }
                    try store.patch(statusPatch, format: .merge, type: .cronJobs, namespace: namespace, name: name, statusOnly: true, now: now)
                }
                logger.info("cronjob created a job", metadata: ["cronjob.namespace": namespace, "cronjob.name": name, "job.name": job["metadata"]?["name"]?.stringValue ?? ""])
            } catch {
                logger.warning("cronjob could not create its job", metadata: ["cronjob.namespace": namespace, "cronjob.name": name, "error": "\(error)"])
            }
        }
    }
}
