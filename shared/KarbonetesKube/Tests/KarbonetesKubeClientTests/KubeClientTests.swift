import Foundation
import KarbonetesHTTPClient
import KarbonetesKubeClient
import KarbonetesKubeTestKit
import KarbonetesMetrics
import KarbonetesModels
import Testing

func job(_ name: String, namespace: String = "batch", labels: [String: String]? = nil) -> Job {
    Job(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels), spec: JobSpec(suspend: true))
}

@Suite("Resource paths")
struct ResourcePathTests {
    struct PathCase: Sendable, CustomStringConvertible {
        var description: String
        var resource: ResourceDescriptor
        var namespace: String?
        var name: String?
        var subresource: String?
        var want: String
    }

    @Test(
        "paths follow the API server's layout for core, grouped, namespaced and cluster-scoped resources",
        arguments: [
            PathCase(description: "jobs collection", resource: .jobs, namespace: "batch", want: "/apis/batch/v1/namespaces/batch/jobs"),
            PathCase(description: "jobs all namespaces", resource: .jobs, want: "/apis/batch/v1/jobs"),
            PathCase(description: "one job", resource: .jobs, namespace: "a", name: "j", want: "/apis/batch/v1/namespaces/a/jobs/j"),
            PathCase(
                description: "job status", resource: .jobs, namespace: "a", name: "j", subresource: "status",
                want: "/apis/batch/v1/namespaces/a/jobs/j/status"),
            PathCase(description: "core events", resource: .events, namespace: "a", want: "/api/v1/namespaces/a/events"),
            PathCase(description: "namespace ignores namespace", resource: .namespaces, namespace: "x", name: "x", want: "/api/v1/namespaces/x"),
            PathCase(
                description: "lease", resource: .leases, namespace: "kube-system", name: "karbonetes",
                want: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/karbonetes"),
            PathCase(
                description: "policy", resource: .carbonAwarePolicies, namespace: "a", name: "default",
                want: "/apis/carbon-aware.io/v1alpha1/namespaces/a/carbonawarepolicies/default"),
            PathCase(
                description: "crd", resource: .customResourceDefinitions, name: "carbonawarepolicies.carbon-aware.io",
                want: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/carbonawarepolicies.carbon-aware.io"),
            PathCase(
                description: "webhook configuration", resource: .mutatingWebhookConfigurations, name: "karbonetes",
                want: "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/karbonetes"),
        ])
    func paths(_ testCase: PathCase) {
        #expect(testCase.resource.path(namespace: testCase.namespace, name: testCase.name, subresource: testCase.subresource) == testCase.want)
    }
}

@Suite("Status decoding")
struct StatusDecodingTests {
    struct ErrorCase: Sendable, CustomStringConvertible {
        var description: String
        var code: Int
        var body: String
        var retryAfter: String?
        var wantReason: String
        var wantFlags: Set<String>
        var wantRetryAfter: Duration?
    }

    static func status(_ code: Int, _ reason: String, _ message: String = "m", details: String = "") -> String {
        #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"\#(message)","reason":"\#(reason)","code":\#(code)\#(details)}"#
    }

    @Test(
        "error answers decode to a KubeAPIError whose flags follow reason and code",
        arguments: [
            ErrorCase(
                description: "not found", code: 404, body: status(404, "NotFound", "jobs.batch \"x\" not found"), wantReason: "NotFound",
                wantFlags: ["notFound"]),
            ErrorCase(
                description: "conflict", code: 409, body: status(409, "Conflict", "the object has been modified"), wantReason: "Conflict",
                wantFlags: ["conflict"]),
            ErrorCase(
                description: "already exists", code: 409, body: status(409, "AlreadyExists"), wantReason: "AlreadyExists",
                wantFlags: ["alreadyExists"]),
            ErrorCase(description: "gone", code: 410, body: status(410, "Expired", "too old resource version"), wantReason: "Expired", wantFlags: ["gone"]),
            ErrorCase(description: "invalid", code: 422, body: status(422, "Invalid"), wantReason: "Invalid", wantFlags: ["invalid"]),
            ErrorCase(
                description: "throttled with header", code: 429, body: status(429, "TooManyRequests"), retryAfter: "3",
                wantReason: "TooManyRequests", wantFlags: ["tooManyRequests"], wantRetryAfter: .seconds(3)),
            ErrorCase(
                description: "throttled with details", code: 429,
                body: status(429, "TooManyRequests", details: #","details":{"retryAfterSeconds":5}"#), wantReason: "TooManyRequests",
                wantFlags: ["tooManyRequests"], wantRetryAfter: .seconds(5)),
            ErrorCase(description: "html from a proxy", code: 502, body: "<html>Bad Gateway</html>", wantReason: "InternalError", wantFlags: ["server"]),
            ErrorCase(description: "empty 503", code: 503, body: "", wantReason: "ServiceUnavailable", wantFlags: ["server"]),
        ])
    func decoding(_ testCase: ErrorCase) {
        let error = KubeAPIError.response(
            code: testCase.code, body: Data(testCase.body.utf8), retryAfterHeader: testCase.retryAfter, verb: "get",
            object: "jobs.batch/v1 batch/x")
        #expect(error.code == testCase.code)
        #expect(error.reason == testCase.wantReason)
        var flags: Set<String> = []
        if error.isNotFound { flags.insert("notFound") }
        if error.isConflict { flags.insert("conflict") }
        if error.isAlreadyExists { flags.insert("alreadyExists") }
        if error.isGone { flags.insert("gone") }
        if error.isInvalid { flags.insert("invalid") }
        if error.isTooManyRequests { flags.insert("tooManyRequests") }
        if error.isServerError { flags.insert("server") }
        #expect(flags == testCase.wantFlags)
        #expect(error.retryAfter == testCase.wantRetryAfter)
        #expect(error.description.hasPrefix("Kubernetes API: get jobs.batch/v1 batch/x: \(testCase.code)"))
    }
}

@Suite("Client requests against the fake API server")
struct KubeClientRequestTests {
    @Test("create, get, update with resourceVersion and delete round-trip, with the errors the server gives")
    func crud() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        let created = try await client.create(job("train"))
        #expect(created.metadata.uid != nil)
        let version = try #require(created.metadata.resourceVersion)

        let fetched = try await client.get(Job.self, namespace: "batch", name: "train")
        #expect(fetched.metadata.resourceVersion == version)

        let duplicate = await #expect(throws: KubeAPIError.self) { try await client.create(job("train")) }
        #expect(duplicate?.isAlreadyExists == true)

        var lease = Lease(metadata: ObjectMeta(name: "leader", namespace: "kube-system"), spec: LeaseSpec(holderIdentity: "a"))
        lease = try await client.create(lease)
        var renewed = lease
        renewed.spec?.holderIdentity = "b"
        let updated = try await client.update(renewed)
        #expect(updated.spec?.holderIdentity == "b")
        #expect(updated.metadata.resourceVersion != lease.metadata.resourceVersion)
        let stale = await #expect(throws: KubeAPIError.self) { try await client.update(renewed) }
        #expect(stale?.isConflict == true)
        #expect(stale?.description.contains("leases.coordination.k8s.io/v1 kube-system/leader") == true)

        try await client.delete(.jobs, namespace: "batch", name: "train")
        let missing = await #expect(throws: KubeAPIError.self) { try await client.get(Job.self, namespace: "batch", name: "train") }
        #expect(missing?.isNotFound == true)
    }

    @Test("a namespaced call without a namespace fails before sending anything")
    func namespaceRequired() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        await #expect(throws: KubeClientError.self) { try await client.get(Job.self, name: "x") }
        #expect(await server.requests.isEmpty)
    }

    @Test("patches are sent with their content type; a failed JSON-patch test op is an error and changes nothing")
    func patches() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        _ = try await client.create(job("train"))
        let merged = try await client.patch(
            Job.self, namespace: "batch", name: "train", patch: .merge(["metadata": ["annotations": ["carbon-aware.io/state": "held"]]]))
        #expect(merged.metadata.annotation("carbon-aware.io/state") == "held")

        let released = try await client.patch(
            Job.self, namespace: "batch", name: "train",
            patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
        #expect(released.spec?.suspend == false)
        await #expect(throws: KubeAPIError.self) {
            try await client.patch(Job.self, namespace: "batch", name: "train", patch: .json([.test("/spec/suspend", true), .replace("/spec/suspend", false)]))
        }
        _ = try await client.patch(Job.self, namespace: "batch", name: "train", patch: .strategicMerge(["spec": ["parallelism": 2]]))
        let types = await server.requests.filter { $0.method == "PATCH" }.map { $0.contentType ?? "" }
        #expect(
            types == [
                "application/merge-patch+json", "application/json-patch+json", "application/json-patch+json",
                "application/strategic-merge-patch+json",
            ])
    }

    @Test("list sends label and field selectors; listAll follows continue tokens and keeps the first page's resourceVersion")
    func listAndPaging() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        for index in 0..<5 { _ = try await client.create(job("j\(index)", labels: ["carbon-aware.io/enabled": index.isMultiple(of: 2) ? "true" : "false"])) }
        _ = try await client.create(job("elsewhere", namespace: "other", labels: ["carbon-aware.io/enabled": "true"]))

        let selected = try await client.list(Job.self, namespace: "batch", options: ListOptions(labelSelector: "carbon-aware.io/enabled=true"))
        #expect(selected.items.map(\.metadata.name) == ["j0", "j2", "j4"])
        let byName = try await client.list(Job.self, namespace: "batch", options: ListOptions(fieldSelector: "metadata.name=j3"))
        #expect(byName.items.map(\.metadata.name) == ["j3"])

        let firstPage = try await client.list(Job.self, namespace: nil, options: ListOptions(limit: 2))
        #expect(firstPage.items.count == 2)
        #expect(firstPage.metadata.continue != nil)
        let all = try await client.listAll(Job.self, .jobs, options: ListOptions(limit: 2))
        #expect(all.items.count == 6)
        #expect(all.metadata.resourceVersion == firstPage.metadata.resourceVersion)
        let queries = await server.requests.suffix(3).map { $0.query }
        #expect(queries.map { $0["limit"] } == ["2", "2", "2"])
        #expect(queries[0]["continue"] == nil)
        #expect(queries[1]["continue"] != nil)
    }

    @Test("the fake API server pages a list from its first page's snapshot: a delete between pages skips nothing")
    func pagingIsASnapshot() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        for index in 0..<6 { _ = try await client.create(job("j\(index)")) }
        let first = try await client.list(Job.self, namespace: "batch", options: ListOptions(limit: 3))
        #expect(first.items.map(\.metadata.name) == ["j0", "j1", "j2"])
        try await client.delete(.jobs, namespace: "batch", name: "j1")
        let second = try await client.list(Job.self, namespace: "batch", options: ListOptions(limit: 3, continue: first.metadata.continue))
        #expect(second.items.map(\.metadata.name) == ["j3", "j4", "j5"])
        #expect(second.metadata.resourceVersion == first.metadata.resourceVersion)
    }

    @Test("a watch decodes events as they come, including bookmarks and the ERROR event of a compaction")
    func watch() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server)
        let list = try await client.list(Job.self, namespace: "batch")
        let watch = try await client.watch(
            Job.self, namespace: "batch", options: WatchOptions(resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 60))
        let query = try #require(await server.requests.last?.query)
        #expect(query["watch"] == "true")
        #expect(query["allowWatchBookmarks"] == "true")
        #expect(query["timeoutSeconds"] == "60")
        #expect(query["resourceVersion"] == list.metadata.resourceVersion)

        _ = try await client.create(job("a"))
        _ = try await client.patch(Job.self, namespace: "batch", name: "a", patch: .merge(["spec": ["suspend": false]]))
        await server.sendBookmarks()
        try await client.delete(.jobs, namespace: "batch", name: "a")
        await server.compact()

        var seen: [String] = []
        var gone = false
        for try await event in watch {
            seen.append(event.type.rawValue)
            if case .status(let status) = event.payload { gone = status.code == 410 }
        }
        #expect(seen == ["ADDED", "MODIFIED", "BOOKMARK", "DELETED", "ERROR"])
        #expect(gone)
    }
}

@Suite("Throttling")
struct ThrottlingTests {
    @Test("a 429 is retried after its Retry-After on the injected clock, and given up after maxRetries")
    func retryAfter() async throws {
        let clock = ManualClock()
        let server = FakeAPIServer()
        let client = KubeClient(transport: server, clock: clock, maxRetries: 2)
        _ = try await client.create(job("a"))
        await server.failNext(code: 429, retryAfter: 7)
        let start = clock.now()
        async let fetched = client.get(Job.self, namespace: "batch", name: "a")
        try await clock.waitForSleepers()
        #expect(clock.nextDeadline == start.addingTimeInterval(7))
        clock.advance(by: .seconds(7))
        #expect(try await fetched.metadata.name == "a")

        for _ in 0..<3 { await server.failNext(code: 429, retryAfter: 1) }
        async let failing: KubeAPIError? = {
            do {
                _ = try await client.get(Job.self, namespace: "batch", name: "a")
                return nil
            } catch let error as KubeAPIError {
                return error
            }
        }()
        for _ in 0..<2 {
            try await clock.waitForSleepers()
            clock.advance(by: .seconds(1))
        }
        let error = try await failing
        #expect(error?.isTooManyRequests == true)
        #expect(await server.requests.count == 6)
    }

    @Test("a client with its own rate limit shares the transport but not the token bucket")
    func separateRateLimit() async throws {
        let clock = ManualClock()
        let server = FakeAPIServer()
        let limited = KubeClient(transport: server, rateLimiter: TokenBucketRateLimiter(qps: 1, burst: 1, clock: clock), clock: clock)
        let unlimited = limited.withRateLimiter(nil)
        _ = try await limited.list(Job.self, namespace: "batch")
        async let throttled = limited.list(Job.self, namespace: "batch")
        try await clock.waitForSleepers()
        _ = try await unlimited.list(Job.self, namespace: "batch")
        #expect(await server.requests.count == 2)
        clock.advance(by: .seconds(1))
        _ = try await throttled
        #expect(await server.requests.count == 3)
    }

    @Test("a 500 without Retry-After is not retried")
    func serverErrorNotRetried() async throws {
        let server = FakeAPIServer()
        let client = KubeClient(transport: server, clock: ManualClock())
        await server.failNext(code: 500)
        let error = await #expect(throws: KubeAPIError.self) { try await client.list(Job.self, namespace: "batch") }
        #expect(error?.code == 500)
        #expect(await server.requests.count == 1)
    }

    struct BucketCase: Sendable, CustomStringConvertible {
        var description: String
        var qps: Double
        var burst: Int
        var requests: Int
        var wantDelays: [Double]
    }

    @Test(
        "the token bucket lets a burst through at once, then spaces requests 1/qps apart",
        arguments: [
            BucketCase(description: "qps 2 burst 3", qps: 2, burst: 3, requests: 6, wantDelays: [0, 0, 0, 0.5, 1.0, 1.5]),
            BucketCase(description: "qps 10 burst 1", qps: 10, burst: 1, requests: 3, wantDelays: [0, 0.1, 0.2]),
            BucketCase(description: "unlimited", qps: 0, burst: 1, requests: 3, wantDelays: [0, 0, 0]),
        ])
    func tokenBucket(_ testCase: BucketCase) async throws {
        let clock = ManualClock()
        let limiter = TokenBucketRateLimiter(qps: testCase.qps, burst: testCase.burst, clock: clock)
        var delays: [Double] = []
        for _ in 0..<testCase.requests {
            let ready = await limiter.reservation()
            delays.append(((ready?.timeIntervalSince(clock.now()) ?? 0) * 1000).rounded() / 1000)
        }
        #expect(delays == testCase.wantDelays)
    }

    @Test("the bucket refills with time: after a pause the burst is available again")
    func refill() async throws {
        let clock = ManualClock()
        let limiter = TokenBucketRateLimiter(qps: 1, burst: 2, clock: clock)
        _ = await limiter.reservation()
        _ = await limiter.reservation()
        #expect(await limiter.reservation() != nil)
        clock.advance(by: .seconds(10))
        #expect(await limiter.reservation() == nil)
        #expect(await limiter.reservation() == nil)
        #expect(await limiter.reservation() != nil)
    }

    @Test("every request is counted by verb and code, transport failures as error")
    func requestCounter() async throws {
        let registry = MetricsRegistry()
        let counter = registry.counter(MetricNames.Controller.apiRequests, help: "API requests", labelNames: ["verb", "code"])
        let server = FakeAPIServer()
        let client = KubeClient(transport: server, onRequest: KubeClient.counting(into: counter))
        _ = try await client.create(job("a"))
        _ = try await client.get(Job.self, namespace: "batch", name: "a")
        _ = try? await client.get(Job.self, namespace: "batch", name: "missing")
        _ = try await client.list(Job.self, namespace: "batch")
        #expect(counter.value(labels: ["verb": "create", "code": "201"]) == 1)
        #expect(counter.value(labels: ["verb": "get", "code": "200"]) == 1)
        #expect(counter.value(labels: ["verb": "get", "code": "404"]) == 1)
        #expect(counter.value(labels: ["verb": "list", "code": "200"]) == 1)
        #expect(registry.render().contains("karbonetes_controller_api_requests_total{"))
    }
}
