import Foundation
import KarbonetesControllerRuntime
import KarbonetesHTTPClient
import KarbonetesKubeClient
import KarbonetesModels
import Testing

@Suite(
    "Client against an API server (karbonetes-devapi, or KARBONETES_TEST_KUBECONFIG)", .serialized,
    .enabled(if: clusterAvailable, "karbonetes-devapi is not built (run `make devapi`) and KARBONETES_TEST_KUBECONFIG is not set"))
struct ClusterClientTests {
    @Test("over HTTPS with the kubeconfig: create, get, list with selectors and paging, patches, conflicts, delete")
    func requests() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        let namespace = cluster.namespace
        do {
            for index in 0..<5 {
                _ = try await client.create(
                    jobJSON("job-\(index)", namespace: namespace, labels: ["carbon-aware.io/enabled": index < 3 ? "true" : "false"]), .jobs,
                    namespace: namespace)
            }
            let duplicate = await #expect(throws: KubeAPIError.self) {
                try await client.create(jobJSON("job-0", namespace: namespace), .jobs, namespace: namespace)
            }
            #expect(duplicate?.isAlreadyExists == true)

            let fetched = try await client.get(Job.self, namespace: namespace, name: "job-1")
            #expect(fetched.isSuspended)
            let selected = try await client.list(Job.self, namespace: namespace, options: ListOptions(labelSelector: "carbon-aware.io/enabled=true"))
            #expect(selected.items.compactMap(\.metadata.name) == ["job-0", "job-1", "job-2"])
            let byField = try await client.list(Job.self, namespace: namespace, options: ListOptions(fieldSelector: "metadata.name=job-4"))
            #expect(byField.items.compactMap(\.metadata.name) == ["job-4"])
            let page = try await client.list(Job.self, namespace: namespace, options: ListOptions(limit: 2))
            #expect(page.items.count == 2)
            #expect(page.metadata.continue?.isEmpty == false)
            let all = try await client.listAll(Job.self, .jobs, namespace: namespace, options: ListOptions(limit: 2))
            #expect(all.items.count == 5)

            let annotated = try await client.patch(
                Job.self, namespace: namespace, name: "job-1", patch: .merge(["metadata": ["annotations": ["carbon-aware.io/state": "held"]]]))
            #expect(annotated.metadata.annotation("carbon-aware.io/state") == "held")
            let released = try await client.patch(
                Job.self, namespace: namespace, name: "job-1", patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
            #expect(released.isSuspended == false)
            let failedTest = await #expect(throws: KubeAPIError.self) {
                try await client.patch(
                    Job.self, namespace: namespace, name: "job-1", patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
            }
            #expect(failedTest?.code == 422 || failedTest?.code == 409)
            let strategic = try await client.patch(Job.self, namespace: namespace, name: "job-2", patch: .strategicMerge(["spec": ["parallelism": 2]]))
            #expect(strategic.spec?.parallelism == 2)

            var lease = try await client.create(
                Lease(metadata: ObjectMeta(name: "leader", namespace: namespace), spec: LeaseSpec(holderIdentity: "a", leaseDurationSeconds: 15)))
            var next = lease
            next.spec?.holderIdentity = "b"
            lease = try await client.update(next)
            #expect(lease.spec?.holderIdentity == "b")
            let stale = await #expect(throws: KubeAPIError.self) { try await client.update(next) }
            #expect(stale?.isConflict == true)

            // Background propagation: a real API server without a garbage collector would keep an
            // orphan-finalized Job forever.
            try await client.delete(.jobs, namespace: namespace, name: "job-0", options: DeleteOptions(propagationPolicy: .background))
            await eventually("job-0 to be gone") {
                do {
                    _ = try await client.get(Job.self, namespace: namespace, name: "job-0")
                    return false
                } catch let error as KubeAPIError {
                    return error.isNotFound
                } catch {
                    return false
                }
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test("a watch over the wire delivers events as they happen; an expired resourceVersion gets 410 (devapi compaction)")
    func watch() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        let namespace = cluster.namespace
        do {
            let list = try await client.list(Job.self, namespace: namespace)
            let watch = try await client.watch(
                Job.self, namespace: namespace, options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 30))
            _ = try await client.create(jobJSON("watched", namespace: namespace), .jobs, namespace: namespace)
            _ = try await client.patch(Job.self, namespace: namespace, name: "watched", patch: .merge(["metadata": ["labels": ["x": "y"]]]))
            var types: [WatchEventType] = []
            for try await event in watch {
                if event.type != .bookmark { types.append(event.type) }
                if types.count == 2 { break }
            }
            #expect(types == [.added, .modified])

            if cluster.supportsFaults {
                try await cluster.admin("POST", "/devapi/compact")
                var gone = false
                do {
                    let expired = try await client.watch(
                        Job.self, namespace: namespace, options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 5))
                    for try await event in expired {
                        if case .status(let status) = event.payload, status.code == 410 { gone = true }
                        break
                    }
                } catch let error as KubeAPIError {
                    gone = error.isGone
                }
                #expect(gone)
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test("measured: request rate over one keep-alive connection, a paged list of 500 Jobs, and watch delivery latency")
    func measurements() async throws {
        let cluster = try await TestCluster.start()
        let client = cluster.client
        let namespace = cluster.namespace
        do {
            var start = ContinuousClock.now
            for index in 0..<500 {
                _ = try await client.create(jobJSON("m-\(index)", namespace: namespace), .jobs, namespace: namespace)
            }
            let createRate = 500 / (ContinuousClock.now - start).seconds
            start = ContinuousClock.now
            for index in 0..<500 { _ = try await client.get(Job.self, namespace: namespace, name: "m-\(index % 500)") }
            let getRate = 500 / (ContinuousClock.now - start).seconds
            start = ContinuousClock.now
            let all = try await client.listAll(Job.self, .jobs, namespace: namespace, options: ListOptions(limit: 100))
            let listTime = ContinuousClock.now - start
            #expect(all.items.count == 500)
            start = ContinuousClock.now
            let raw = try await client.send(
                verb: "list", object: "jobs", resource: .jobs,
                HTTPClientRequest(path: ResourceDescriptor.jobs.path(namespace: namespace), query: [("limit", "500")]))
            let transferTime = ContinuousClock.now - start
            start = ContinuousClock.now
            _ = try KubernetesJSON.decoder.decode(ObjectList<Job>.self, from: raw.body)
            let decodeTime = ContinuousClock.now - start

            let watch = try await client.watch(
                Job.self, namespace: namespace, options: WatchOptions(resourceVersion: all.metadata.resourceVersion, timeoutSeconds: 60))
            var latencies: [Duration] = []
            var iterator = watch.makeAsyncIterator()
            for index in 0..<100 {
                let sent = ContinuousClock.now
                _ = try await client.patch(
                    Job.self, namespace: namespace, name: "m-\(index)", patch: .merge(["metadata": ["labels": ["seen": "yes"]]]))
                while let event = try await iterator.next() {
                    if event.type == .modified, event.object?.metadata.name == "m-\(index)" { break }
                }
                latencies.append(ContinuousClock.now - sent)
            }
            latencies.sort()
            print(
                "measured: \(Int(createRate)) creates/s, \(Int(getRate)) gets/s (sequential, one connection), listAll of 500 in pages of 100: \(listTime) "
                    + "(one page of 500: \(transferTime) on the wire, \(decodeTime) decoding \(raw.body.count) bytes), "
                    + "patch-to-watch-event p50 \(latencies[50]), max \(latencies[99])")
            #expect(latencies.count == 100)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
