public import Foundation
public import KarbonetesModels

/// Builds Jobs for tests the way users write them: `JobFixture.carbonAware().created(at: t).suspended()`.
/// `.json` gives the raw object as the API server would send it (with fields the models do not
/// know, such as containers), so that tests also pin that unknown fields survive.
public struct JobFixture: Sendable {
    public var raw: JSONValue

    public init(name: String = "report", namespace: String = "batch") {
        raw = [
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)")] as JSONValue,
            "spec": [
                "backoffLimit": 2,
                "template": [
                    "metadata": ["labels": ["app": .string(name)]],
                    "spec": [
                        "restartPolicy": "Never",
                        "containers": [["name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "echo hi"]]],
                    ],
                ],
            ],
        ]
    }

    /// A Job opted in with `carbon-aware.io/enabled: "true"`.
    public static func carbonAware(name: String = "report", namespace: String = "batch") -> JobFixture {
        JobFixture(name: name, namespace: namespace).annotated(CarbonAnnotations.enabled, "true")
    }

    public static func plain(name: String = "report", namespace: String = "batch") -> JobFixture {
        JobFixture(name: name, namespace: namespace)
    }

    public func annotated(_ key: String, _ value: String) -> JobFixture {
        setting(["metadata", "annotations", key], .string(value))
    }

    public func labelled(_ key: String, _ value: String) -> JobFixture {
        setting(["metadata", "labels", key], .string(value))
    }

    public func created(at date: Date) -> JobFixture {
        setting(["metadata", "creationTimestamp"], .string(RFC3339.format(date)))
    }

    public func resourceVersion(_ version: String) -> JobFixture {
        setting(["metadata", "resourceVersion"], .string(version))
    }

    public func suspended(_ suspend: Bool = true) -> JobFixture {
        setting(["spec", "suspend"], .bool(suspend))
    }

    public func started(at date: Date) -> JobFixture {
        setting(["status", "startTime"], .string(RFC3339.format(date)))
    }

    public func finished(_ type: String = "Complete") -> JobFixture {
        setting(["status", "conditions"], [["type": .string(type), "status": "True"]])
    }

    public func deleting(at date: Date) -> JobFixture {
        setting(["metadata", "deletionTimestamp"], .string(RFC3339.format(date)))
    }

    /// Held by the webhook: suspended, labelled managed, state `deferred`, with a deadline.
    public func held(until deadline: Date) -> JobFixture {
        suspended()
            .labelled(CarbonAnnotations.managedLabel, "true")
            .annotated(CarbonAnnotations.state, CarbonState.deferred.rawValue)
            .annotated(CarbonAnnotations.deadline, RFC3339.format(deadline))
    }

    /// Created by a CronJob: the controller ownerReference and the scheduled-timestamp annotation.
    public func ownedByCronJob(named cronJob: String = "nightly", scheduledAt: Date) -> JobFixture {
        setting(["metadata", "ownerReferences"], [[
            "apiVersion": "batch/v1", "kind": "CronJob", "name": .string(cronJob), "uid": .string("uid-\(cronJob)"),
            "controller": true, "blockOwnerDeletion": true,
        ]])
        .annotated(CarbonAnnotations.cronJobScheduledTimestamp, RFC3339.format(scheduledAt))
    }

    public func podSpec(_ key: String, _ value: JSONValue) -> JobFixture {
        setting(["spec", "template", "spec", key], value)
    }

    public func setting(_ path: [String], _ value: JSONValue) -> JobFixture {
        var copy = self
        copy.raw = Self.set(copy.raw, path[...], value)
        return copy
    }

    private static func set(_ node: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        var members = node.objectValue ?? [:]
        members[key] = set(members[key] ?? .object([:]), path.dropFirst(), value)
        return .object(members)
    }

    public var json: JSONValue { raw }

    public var job: Job {
        // A fixture is always a decodable Job; failing here is a broken test, not a product bug.
        try! raw.decode(as: Job.self)
    }
}

/// Signals for tests.
public enum SignalFixture {
    public static func green(region: String = "default", intensity: Double = 80, at now: Date, windowEnd: TimeInterval = 3600) -> CarbonSignal {
        CarbonSignal(
            region: region, intensity: intensity, green: true, rule: "test", windowStart: now.addingTimeInterval(-600),
            windowEnd: now.addingTimeInterval(windowEnd), nextGreenStart: nil, observedAt: now, source: "test")
    }

    public static func dirty(region: String = "default", intensity: Double = 420, at now: Date, nextGreenIn: TimeInterval? = 7200, windowEnd: TimeInterval? = nil) -> CarbonSignal {
        CarbonSignal(
            region: region, intensity: intensity, green: false, rule: "test", windowStart: now.addingTimeInterval(-600),
            windowEnd: now.addingTimeInterval(windowEnd ?? nextGreenIn ?? 86_400), nextGreenStart: nextGreenIn.map { now.addingTimeInterval($0) },
            observedAt: now, source: "test")
    }
}

/// Policies for tests.
public enum PolicyFixture {
    public static func policy(name: String = "default", namespace: String = "batch", _ spec: CarbonAwarePolicySpec) -> CarbonAwarePolicy {
        CarbonAwarePolicy(metadata: ObjectMeta(name: name, namespace: namespace, generation: 1), spec: spec)
    }

    /// The resolution for a Job with only built-in defaults (and the Job's own annotations).
    public static func resolution(for job: Job, spec: CarbonAwarePolicySpec? = nil) -> PolicyResolver.Resolution {
        PolicyResolver.resolve(job: job, named: nil, fallback: spec.map { policy($0) })
    }
}
