import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesModels
import Synchronization
import Testing

@Suite(
    "Informer, events and leader election against an API server", .serialized,
    .enabled(if: clusterAvailable, "karbonetes-devapi is not built (run `make devapi`) and KARBONETES_TEST_KUBECONFIG is not set"))
struct ClusterControllerTests {
    @Test(
        "soak: watches dropped every 2 s, compaction every 3 s, a 10-change history, 5% 500s, and an outage past a compaction: the informer's cache ends equal to the server's state",
        .enabled(if: externalKubeconfig == nil, "needs karbonetes-devapi's fault injection"))
    func informerSoak() async throws {
        let cluster = try await TestCluster.start(devAPIArguments: ["--watch-history", "10", "--bookmark-interval", "1s"])
        let client = cluster.client
        let namespace = cluster.namespace
        let informer = Informer<Job>(
            client: client, resource: .jobs, namespace: namespace, pageSize: 10,
            backoff: Backoff(initial: .milliseconds(100), maximum: .milliseconds(400)))
        let normalFaults: JSONValue = ["rules": [["resource": "jobs", "errorRate": 0.05, "errorCode": 500, "dropWatchesEverySeconds": 2]]]
        let outage: JSONValue = ["rules": [["resource": "jobs", "errorRate": 1.0, "errorCode": 503]]]
        try await cluster.admin("PUT", "/devapi/faults", body: normalFaults)

        var generator = SystemRandomNumberGenerator()
        var written = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            try await informer.waitForSync()
            let start = ContinuousClock.now
            var lastCompaction = start
            var phase = 0
            while ContinuousClock.now - start < .seconds(12) {
                // At 4 s the API server fails every Job request and drops the informer's watch;
                // meanwhile another resource's write moves the resourceVersion on and the history
                // is compacted past it, so the informer must re-list when the outage ends.
                if phase == 0, ContinuousClock.now - start > .seconds(4) {
                    phase = 1
                    try await cluster.admin("PUT", "/devapi/faults", body: outage)
                    try await cluster.admin("POST", "/devapi/drop-watches", query: [("resource", "jobs")])
                    _ = try await client.create(
                        Lease(metadata: ObjectMeta(name: "soak-outage", namespace: namespace), spec: LeaseSpec(holderIdentity: "soak")))
                    try await cluster.admin("POST", "/devapi/compact")
                    try await Task.sleep(for: .milliseconds(500))
                    try await cluster.admin("PUT", "/devapi/faults", body: normalFaults)
                }
                let name = "soak-\(Int.random(in: 0..<60, using: &generator))"
                do {
                    switch Int.random(in: 0..<10, using: &generator) {
                    case 0...3: _ = try await client.create(jobJSON(name, namespace: namespace), .jobs, namespace: namespace)
                    case 4...7:
                        _ = try await client.patch(
                            JSONValue.self, .jobs, namespace: namespace, name: name,
                            patch: .merge(["metadata": ["labels": ["step": .string(String(written))]]]))
                    default:
                        try await client.delete(.jobs, namespace: namespace, name: name, options: DeleteOptions(propagationPolicy: .background))
                    }
                    written += 1
                } catch is KubeAPIError {
                    // Injected 500s, conflicts and missing objects are part of the soak.
                }
                if ContinuousClock.now - lastCompaction > .seconds(3) {
                    try await cluster.admin("POST", "/devapi/compact")
                    lastCompaction = ContinuousClock.now
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            try await cluster.admin("DELETE", "/devapi/faults")
            let truth = try await client.listAll(Job.self, .jobs, namespace: namespace).items
                .map { "\($0.key) \($0.metadata.resourceVersion ?? "")" }.sorted()
            await eventually("the cache to equal the server's state", timeout: .seconds(30)) {
                informer.cache.list().map { "\($0.key) \($0.metadata.resourceVersion ?? "")" }.sorted() == truth
            }
            let counts = informer.requestCounts
            print("informer soak: \(written) writes, \(truth.count) jobs at the end, \(counts.lists) lists, \(counts.watches) watches")
            #expect(counts.lists > 1)
            #expect(counts.watches > 3)
            group.cancelAll()
            try await group.waitForAll()
        }
        #expect(written > 50)
        await cluster.stop()
    }

    @Test(
        "across an API server restart with its data kept, the informer reconnects and no Job is lost",
        .enabled(if: externalKubeconfig == nil && devAPIExecutable != nil, "needs karbonetes-devapi"))
    func informerAcrossRestart() async throws {
        let port = try freePort()
        let folder = NSTemporaryDirectory() + "karbonetes-kube-restart-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var server = try DevAPIProcess(directory: folder, port: port)
        try await server.start()
        let client = try server.client()
        let informer = Informer<Job>(
            client: client, resource: .jobs, namespace: "default", backoff: Backoff(initial: .milliseconds(50), maximum: .milliseconds(500)))
        for index in 0..<20 { _ = try await client.create(jobJSON("before-\(index)"), .jobs, namespace: "default") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            try await informer.waitForSync()
            #expect(informer.cache.count == 20)
            await server.stop()
            try await Task.sleep(for: .milliseconds(300))
            server = try DevAPIProcess(directory: folder, port: port)
            try await server.start()
            for index in 0..<10 {
                for attempt in 1...40 {
                    do {
                        _ = try await client.create(jobJSON("after-\(index)"), .jobs, namespace: "default")
                        break
                    } catch let error as KubeAPIError where error.isAlreadyExists {
                        break
                    } catch {
                        // A pooled connection to the stopped server may fail once.
                        if attempt == 40 { throw error }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            try await client.delete(.jobs, namespace: "default", name: "before-0", options: DeleteOptions(propagationPolicy: .background))
            let truth = try await client.listAll(Job.self, .jobs, namespace: "default").items.map(\.key.description).sorted()
            #expect(truth.count == 29)
            await eventually("the cache to match the restarted server") { informer.cache.keys().map(\.description) == truth }
            print("informer across restart: \(informer.requestCounts.lists) lists, \(informer.requestCounts.watches) watches")
            group.cancelAll()
            try await group.waitForAll()
        }
        await server.stop()
    }

    @Test("an informer follows writes made by another client, then its cache equals a fresh list")
    func informerFollows() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        let namespace = cluster.namespace
        let informer = Informer<Job>(client: client, resource: .jobs, namespace: namespace, pageSize: 3)
        for index in 0..<7 { _ = try await client.create(jobJSON("pre-\(index)", namespace: namespace), .jobs, namespace: namespace) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            try await informer.waitForSync()
            #expect(informer.cache.count == 7)
            for index in 0..<5 { _ = try await client.create(jobJSON("post-\(index)", namespace: namespace), .jobs, namespace: namespace) }
            _ = try await client.patch(Job.self, namespace: namespace, name: "pre-0", patch: .merge(["spec": ["parallelism": 3]]))
            try await client.delete(.jobs, namespace: namespace, name: "pre-1", options: DeleteOptions(propagationPolicy: .background))
            let truth = try await client.listAll(Job.self, .jobs, namespace: namespace).items
                .map { "\($0.key) \($0.metadata.resourceVersion ?? "")" }.sorted()
            await eventually("the cache to follow") {
                informer.cache.list().map { "\($0.key) \($0.metadata.resourceVersion ?? "")" }.sorted() == truth
            }
            #expect(informer.cache.get(ObjectKey(namespace: namespace, name: "pre-0"))?.spec?.parallelism == 3)
            group.cancelAll()
            try await group.waitForAll()
        }
        await cluster.stop()
    }

    @Test("Events about a Job are created once and then aggregated by patching count and lastTimestamp")
    func events() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        let namespace = cluster.namespace
        let job = try await client.create(jobJSON("evented", namespace: namespace), .jobs, namespace: namespace).decode(as: Job.self)
        let recorder = EventRecorder(client: client, component: "karbonetes-controller", instance: "test")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            for _ in 0..<3 { recorder.record(job, type: .normal, reason: "Held", message: "grid is not green") }
            recorder.record(job, type: .normal, reason: "Released", message: "grid is green")
            recorder.finish()
            try await group.waitForAll()
        }
        let events = try await client.list(Event.self, namespace: namespace).items.sorted { ($0.reason ?? "") < ($1.reason ?? "") }
        #expect(events.map(\.reason) == ["Held", "Released"])
        #expect(events.map(\.count) == [3, 1])
        #expect(events.first?.involvedObject.uid == job.metadata.uid)
        #expect(events.first?.involvedObject.kind == "Job")
        await cluster.stop()
    }

    @Test("leader election on a real Lease: one leader, a successor takes over at once on release, a leader cut off stops (devapi faults)")
    func leaderElection() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        func configuration(_ identity: String) -> LeaderElectionConfiguration {
            LeaderElectionConfiguration(
                leaseName: "karbonetes-controller", namespace: cluster.namespace, identity: identity, leaseDuration: .seconds(4),
                renewDeadline: .seconds(3), retryPeriod: .milliseconds(300))
        }
        let a = LeaderElector(client: client, configuration: configuration("a"))
        let b = LeaderElector(client: client, configuration: configuration("b"))
        let leading = Leaders()
        let taskA = Task { try await a.run(leading.work("a")) }
        await eventually("a leading") { leading.names == ["a"] }
        let taskB = Task { () -> (any Error)? in
            do {
                try await b.run(leading.work("b"))
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .seconds(5))
        #expect(leading.names == ["a"])

        taskA.cancel()
        try await taskA.value
        let released = ContinuousClock.now
        await eventually("b leading", timeout: .seconds(10)) { leading.names == ["b"] }
        let takeover = ContinuousClock.now - released
        print("leader election: successor took over \(takeover) after the release (lease duration 4 s)")
        #expect(takeover < .seconds(2))

        if cluster.supportsFaults {
            try await cluster.admin("PUT", "/devapi/faults", body: ["rules": [["resource": "leases", "errorRate": 1.0, "errorCode": 503]]])
            let cutOff = ContinuousClock.now
            let error = await taskB.value
            let stopped = ContinuousClock.now - cutOff
            print("leader election: leader cut off from the API server stopped after \(stopped) (renew deadline 3 s)")
            #expect((error as? LeaderElectionError)?.isLostLease == true)
            #expect(stopped < .seconds(4))
            #expect(leading.names.isEmpty)
        } else {
            taskB.cancel()
            #expect(await taskB.value == nil)
        }
        await cluster.stop()
    }
}

/// Who is running leading work right now.
final class Leaders: Sendable {
    private let current = Mutex<[String]>([])
    var names: [String] { current.withLock { $0 } }

    func work(_ name: String) -> @Sendable () async throws -> Void {
        { [self] in
            current.withLock { $0.append(name) }
            defer { current.withLock { $0.removeAll { $0 == name } } }
            while true { try await Task.sleep(for: .seconds(60)) }
        }
    }
}
