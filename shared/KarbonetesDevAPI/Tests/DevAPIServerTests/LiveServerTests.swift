import DevAPIServer
import DevAPIStore
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesModels
import KarbonetesTLS
import Testing

@Suite("karbonetes-devapi over HTTPS", .serialized)
struct LiveServerTests {
    @Test("TLS with the server's own CA and bearer token: no token is 401, another CA fails the handshake, discovery answers")
    func tlsAndAuth() async throws {
        try await withLiveServer { server, client in
            let anonymous = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: server.url)!, tls: TLSClientConfiguration(trustRoots: .pem(.data(server.caCertificatePEM)))))
            let unauthorized = try await anonymous.send(.get, "/api/v1/namespaces")
            #expect(unauthorized.status == 401)
            #expect(unauthorized.body["reason"] == "Unauthorized")
            await anonymous.shutdown()
            let untrusting = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: server.url)!, authorization: .bearerToken(server.token)))
            await #expect(throws: HTTPClientError.self) { _ = try await untrusting.send(.get, "/api") }
            await untrusting.shutdown()
            let versions = try await client.send(.get, "/api")
            #expect(versions.body["versions"] == ["v1"])
            let groups = try await client.send(.get, "/apis")
            let names = groups.body["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(Set(["batch", "coordination.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "events.k8s.io"]).isSubset(of: Set(names)))
            let batch = try await client.send(.get, "/apis/batch/v1")
            let resources = batch.body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(resources.contains("jobs") && resources.contains("jobs/status") && resources.contains("cronjobs"))
        }
    }

    @Test("create, get, update with a stale resourceVersion (409), patch, status, delete and 404 over the wire")
    func crud() async throws {
        try await withLiveServer { _, client in
            let created = try await client.send(.post, jobsPath, json: jobBody("wire"))
            #expect(created.status == 201)
            let version = try #require(created.body.at("metadata.resourceVersion")?.stringValue)
            let fetched = try await client.send(.get, jobsPath + "/wire")
            #expect(fetched.status == 200)
            #expect(fetched.body.at("spec.selector.matchLabels") != nil)
            let patched = try await client.send(.patch, jobsPath + "/wire", contentType: "application/merge-patch+json", body: #"{"metadata":{"annotations":{"a":"b"}}}"#)
            #expect(patched.status == 200)
            let stale = try await client.send(.put, jobsPath + "/wire", json: created.body)
            #expect(stale.status == 409)
            #expect(stale.body["reason"] == "Conflict")
            #expect(created.body.at("metadata.resourceVersion")?.stringValue == version)
            let status = try await client.send(.patch, jobsPath + "/wire/status", contentType: "application/merge-patch+json", body: #"{"status":{"active":1}}"#)
            #expect(status.body.at("status.active") == 1)
            let unsupported = try await client.send(.patch, jobsPath + "/wire", contentType: "application/apply-patch+yaml", body: "{}")
            #expect(unsupported.status == 415)
            let deleted = try await client.send(.delete, jobsPath + "/wire")
            #expect(deleted.status == 200)
            let gone = try await client.send(.get, jobsPath + "/wire")
            #expect(gone.status == 404)
            #expect(gone.body["message"] == "jobs.batch \"wire\" not found")
            let unknown = try await client.send(.get, "/apis/example.com/v1/widgets")
            #expect(unknown.status == 404)
        }
    }

    @Test("list pages with limit and continue, and filters with a label selector")
    func listPaging() async throws {
        try await withLiveServer { _, client in
            for index in 0..<5 {
                _ = try await client.send(.post, jobsPath, json: jobBody("job-\(index)", labels: ["parity": .string(index % 2 == 0 ? "even" : "odd")]))
            }
            var names: [String] = []
            var token: String?
            repeat {
                var query = [(name: "limit", value: "2")]
                if let token { query.append((name: "continue", value: token)) }
                let page = try await client.send(.get, jobsPath, query: query)
                #expect(page.body["kind"] == "JobList")
                names += page.body["items"]?.arrayValue?.compactMap { $0.at("metadata.name")?.stringValue } ?? []
                token = page.body.at("metadata.continue")?.stringValue
            } while token != nil
            #expect(names == (0..<5).map { "job-\($0)" })
            let odd = try await client.send(.get, "/apis/batch/v1/jobs", query: [(name: "labelSelector", value: "parity=odd")])
            #expect(odd.body["items"]?.arrayValue?.count == 2)
        }
    }

    @Test("a watch streams initial ADDED lines, live changes, bookmarks, and ends at timeoutSeconds")
    func watchStream() async throws {
        try await withLiveServer { _, client in
            _ = try await client.send(.post, jobsPath, json: jobBody("first"))
            let response = try await client.stream(HTTPClientRequest(path: jobsPath, query: [("watch", "true"), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "2")]))
            #expect(response.status == 200)
            async let writes: Void = {
                try? await Task.sleep(for: .milliseconds(300))
                _ = try? await client.send(.post, jobsPath, json: jobBody("second"))
                _ = try? await client.send(.delete, jobsPath + "/first")
            }()
            var events: [(String, String)] = []
            let started = ContinuousClock.now
            for try await line in response.lines {
                let event = try KubernetesJSON.decoder.decode(JSONValue.self, from: line)
                events.append((event["type"]?.stringValue ?? "", event.at("object.metadata.name")?.stringValue ?? ""))
            }
            await writes
            let elapsed = ContinuousClock.now - started
            let changes = events.filter { $0.0 != "BOOKMARK" }.map { "\($0.0) \($0.1)" }
            #expect(changes == ["ADDED first", "ADDED second", "DELETED first"])
            #expect(events.contains { $0.0 == "BOOKMARK" })
            #expect(elapsed >= .seconds(1.5) && elapsed < .seconds(5))
        }
    }

    @Test("kubectl's Table requests get a Table for lists and for watch events, with the columns once")
    func tables() async throws {
        try await withLiveServer { _, client in
            _ = try await client.send(.post, jobsPath, json: jobBody("tabled"))
            let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            let list = try await client.execute(HTTPClientRequest(path: jobsPath, headers: ["Accept": accept]))
            let table = try KubernetesJSON.decoder.decode(JSONValue.self, from: list.body)
            #expect(table["kind"] == "Table")
            #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Status", "Completions", "Age"])
            #expect(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue?.prefix(3) == ["tabled", "Suspended", "0/1"])
            let watch = try await client.stream(HTTPClientRequest(path: jobsPath, query: [("watch", "true"), ("timeoutSeconds", "1")], headers: ["Accept": accept]))
            async let change: Void = { _ = try? await client.send(.post, jobsPath, json: jobBody("second")) }()
            var objects: [JSONValue] = []
            for try await line in watch.lines { objects.append(try KubernetesJSON.decoder.decode(JSONValue.self, from: line)["object"] ?? .null) }
            await change
            #expect(objects.count == 2)
            #expect(objects.allSatisfy { $0["kind"] == "Table" })
            #expect(objects.first?["columnDefinitions"] != nil && objects.last?["columnDefinitions"] == nil)
        }
    }

    @Test("after a forced compaction, a watch from an old resourceVersion gets one ERROR line with 410 Expired")
    func watchGone() async throws {
        try await withLiveServer { _, client in
            let created = try await client.send(.post, jobsPath, json: jobBody("old"))
            let version = try #require(created.body.at("metadata.resourceVersion")?.stringValue)
            _ = try await client.send(.patch, jobsPath + "/old", contentType: "application/merge-patch+json", body: #"{"metadata":{"labels":{"x":"y"}}}"#)
            let resumable = try await client.stream(HTTPClientRequest(path: jobsPath, query: [("watch", "1"), ("resourceVersion", version), ("timeoutSeconds", "1")]))
            var replayed: [String] = []
            for try await line in resumable.lines { replayed.append(try KubernetesJSON.decoder.decode(JSONValue.self, from: line)["type"]?.stringValue ?? "") }
            #expect(replayed == ["MODIFIED"])
            _ = try await client.send(.post, "/devapi/compact")
            let response = try await client.stream(HTTPClientRequest(path: jobsPath, query: [("watch", "1"), ("resourceVersion", version)]))
            var lines: [JSONValue] = []
            for try await line in response.lines { lines.append(try KubernetesJSON.decoder.decode(JSONValue.self, from: line)) }
            #expect(lines.count == 1)
            #expect(lines.first?["type"] == "ERROR")
            #expect(lines.first?.at("object.code") == 410)
            #expect(lines.first?.at("object.reason") == "Expired")
        }
    }

    struct FaultCase: Sendable, CustomStringConvertible {
        var description: String { "\(code)" }
        var code: Int
        var wantReason: String
    }

    @Test("injected faults answer the chosen status for their resource only", arguments: [
        FaultCase(code: 409, wantReason: "Conflict"), FaultCase(code: 429, wantReason: "TooManyRequests"),
        FaultCase(code: 500, wantReason: "InternalError"), FaultCase(code: 503, wantReason: "ServiceUnavailable"),
    ])
    func faults(_ testCase: FaultCase) async throws {
        try await withLiveServer { server, client in
            let rules: JSONValue = ["rules": [["resource": "leases", "errorRate": 1, "errorCode": .number(Double(testCase.code))]]]
            let set = try await client.send(.put, "/devapi/faults", json: rules)
            #expect(set.status == 200)
            let faulted = try await client.execute(HTTPClientRequest(path: "/apis/coordination.k8s.io/v1/namespaces/default/leases"))
            #expect(faulted.status == testCase.code)
            #expect((try KubernetesJSON.decoder.decode(Status.self, from: faulted.body)).reason == testCase.wantReason)
            if testCase.code == 429 { #expect(faulted.headers["Retry-After"] == "1") }
            let jobs = try await client.send(.get, jobsPath)
            #expect(jobs.status == 200)
            _ = try await client.send(.delete, "/devapi/faults")
            let healed = try await client.send(.get, "/apis/coordination.k8s.io/v1/namespaces/default/leases")
            #expect(healed.status == 200)
            #expect(server.faults.injectedErrors == 1)
        }
    }

    @Test("dropWatchesEverySeconds ends open watches of that resource while they stay connected otherwise")
    func dropWatches() async throws {
        try await withLiveServer { _, client in
            _ = try await client.send(.put, "/devapi/faults", json: ["rules": [["resource": "jobs", "dropWatchesEverySeconds": 0.5]]])
            let started = ContinuousClock.now
            let response = try await client.stream(HTTPClientRequest(path: jobsPath, query: [("watch", "true"), ("timeoutSeconds", "30")]))
            for try await _ in response.lines {}
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("objects survive a restart on the same data folder, with the same CA and token")
    func persistence() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (token, ca) = try await withLiveServer(dataDirectory: directory) { server, client in
            _ = try await client.send(.post, jobsPath, json: jobBody("kept"))
            return (server.token, server.caCertificatePEM)
        }
        try await withLiveServer(dataDirectory: directory) { server, client in
            #expect(server.token == token)
            #expect(server.caCertificatePEM == ca)
            let kept = try await client.send(.get, jobsPath + "/kept")
            #expect(kept.status == 200)
            #expect(kept.body.at("metadata.name") == "kept")
            let kubeconfig = try String(contentsOfFile: directory + "/kubeconfig", encoding: .utf8)
            #expect(kubeconfig.contains("server: \(server.url)"))
            #expect(kubeconfig.contains("token: \(token)"))
        }
    }
}
