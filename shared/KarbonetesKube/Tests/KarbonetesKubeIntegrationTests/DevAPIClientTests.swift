import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesModels
import Testing

@Suite("Against karbonetes-devapi", .serialized, .enabled(if: devAPIExecutable != nil, "karbonetes-devapi is not built: run `make devapi`"))
struct DevAPIClientTests {
    @Test("over HTTPS with the written kubeconfig: create, get, list with selectors and paging, patches, conflicts, delete")
    func requests() async throws {
        let devapi = try DevAPIProcess()
        try await devapi.start()
        defer { devapi.stop() }
        let client = try devapi.client()

        for index in 0..<5 {
            _ = try await client.create(jobJSON("job-\(index)", labels: ["carbon-aware.io/enabled": index < 3 ? "true" : "false"]), .jobs, namespace: "default")
        }
        let duplicate = await #expect(throws: KubeAPIError.self) { try await client.create(jobJSON("job-0"), .jobs, namespace: "default") }
        #expect(duplicate?.isAlreadyExists == true)

        let fetched = try await client.get(Job.self, namespace: "default", name: "job-1")
        #expect(fetched.isSuspended)
        let selected = try await client.list(Job.self, namespace: "default", options: ListOptions(labelSelector: "carbon-aware.io/enabled=true"))
        #expect(selected.items.compactMap(\.metadata.name) == ["job-0", "job-1", "job-2"])
        let byField = try await client.list(Job.self, namespace: "default", options: ListOptions(fieldSelector: "metadata.name=job-4"))
        #expect(byField.items.compactMap(\.metadata.name) == ["job-4"])
        let page = try await client.list(Job.self, namespace: "default", options: ListOptions(limit: 2))
        #expect(page.items.count == 2)
        #expect(page.metadata.continue?.isEmpty == false)
        let all = try await client.listAll(Job.self, .jobs, namespace: "default", options: ListOptions(limit: 2))
        #expect(all.items.count == 5)

        let annotated = try await client.patch(
            Job.self, namespace: "default", name: "job-1", patch: .merge(["metadata": ["annotations": ["carbon-aware.io/state": "held"]]]))
        #expect(annotated.metadata.annotation("carbon-aware.io/state") == "held")
        let released = try await client.patch(
            Job.self, namespace: "default", name: "job-1", patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
        #expect(released.isSuspended == false)
        let failedTest = await #expect(throws: KubeAPIError.self) {
            try await client.patch(Job.self, namespace: "default", name: "job-1", patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
        }
        #expect(failedTest?.code == 422 || failedTest?.code == 409)
        let strategic = try await client.patch(Job.self, namespace: "default", name: "job-2", patch: .strategicMerge(["spec": ["parallelism": 2]]))
        #expect(strategic.spec?.parallelism == 2)

        var lease = try await client.create(
            Lease(metadata: ObjectMeta(name: "leader", namespace: "default"), spec: LeaseSpec(holderIdentity: "a", leaseDurationSeconds: 15)))
        var next = lease
        next.spec?.holderIdentity = "b"
        lease = try await client.update(next)
        #expect(lease.spec?.holderIdentity == "b")
        let stale = await #expect(throws: KubeAPIError.self) { try await client.update(next) }
        #expect(stale?.isConflict == true)

        try await client.delete(.jobs, namespace: "default", name: "job-0")
        await eventually("job-0 to be gone") {
            do {
                _ = try await client.get(Job.self, namespace: "default", name: "job-0")
                return false
            } catch let error as KubeAPIError {
                return error.isNotFound
            } catch {
                return false
            }
        }
    }

    @Test("a watch over the wire delivers events as they happen, and an expired resourceVersion gets 410")
    func watch() async throws {
        let devapi = try DevAPIProcess()
        try await devapi.start()
        defer { devapi.stop() }
        let client = try devapi.client()
        let list = try await client.list(Job.self, namespace: "default")
        let watch = try await client.watch(Job.self, namespace: "default", options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 30))
        _ = try await client.create(jobJSON("watched"), .jobs, namespace: "default")
        _ = try await client.patch(Job.self, namespace: "default", name: "watched", patch: .merge(["metadata": ["labels": ["x": "y"]]]))
        var types: [WatchEventType] = []
        for try await event in watch {
            if event.type != .bookmark { types.append(event.type) }
            if types.count == 2 { break }
        }
        #expect(types == [.added, .modified])

        try await devapi.admin(client, "POST", "/devapi/compact")
        var gone = false
        do {
            let expired = try await client.watch(
                Job.self, namespace: "default", options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 5))
            for try await event in expired {
                if case .status(let status) = event.payload, status.code == 410 { gone = true }
                break
            }
        } catch let error as KubeAPIError {
            gone = error.isGone
        }
        #expect(gone)
    }
}
