import DevAPIServer
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesModels
import Synchronization
import Testing

@Suite("Watch resume under injected faults", .serialized)
struct ResumeUnderFaultsTests {
    @Test("a client that resumes from its last resourceVersion after dropped watches, re-lists after 410 and retries 500s ends with the server's state")
    func resumeConverges() async throws {
        try await withLiveServer(historyCapacity: 40) { _, client in
            _ = try await client.send(.put, "/devapi/faults", json: ["rules": [["resource": "leases", "dropWatchesEverySeconds": 0.3, "errorRate": 0.05, "errorCode": 500]]])
            let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
            let writesDone = DoneFlag()
            async let writes: Void = {
                defer { writesDone.set() }
                for index in 0..<150 {
                    let name = "lease-\(index % 12)"
                    let body: JSONValue = ["metadata": ["name": .string(name)], "spec": ["holderIdentity": .string("holder-\(index)")]]
                    let created = try? await client.send(.post, leases, json: body)
                    if created?.status == 409 {
                        _ = try? await client.send(.patch, leases + "/" + name, contentType: "application/merge-patch+json", body: #"{"spec":{"holderIdentity":"holder-\#(index)"}}"#)
                    }
                    if index % 7 == 0 { _ = try? await client.send(.delete, leases + "/lease-\((index + 3) % 12)") }
                    if index == 75 {
                        // While the reader is away (it waits 150 ms before resuming), changes it has
                        // not seen are compacted away: its resume must get 410 and re-list.
                        _ = try? await client.send(.post, "/devapi/drop-watches", query: [("resource", "leases")])
                        for round in 0..<3 {
                            _ = try? await client.send(.patch, leases + "/lease-0", contentType: "application/merge-patch+json", body: #"{"spec":{"holderIdentity":"compacted-\#(round)"}}"#)
                        }
                        _ = try? await client.send(.post, "/devapi/compact")
                    }
                    try? await Task.sleep(for: .milliseconds(8))
                }
            }()
            var cache: [String: JSONValue] = [:]
            var version: String?
            var relists = 0
            var resumes = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if version == nil {
                    let list = try await client.send(.get, leases)
                    guard list.status == 200 else { continue }
                    cache = [:]
                    for item in list.body["items"]?.arrayValue ?? [] { cache[item.at("metadata.name")?.stringValue ?? ""] = item }
                    version = list.body.at("metadata.resourceVersion")?.stringValue
                    relists += 1
                }
                guard let since = version else { continue }
                guard let stream = try? await client.stream(HTTPClientRequest(path: leases, query: [("watch", "true"), ("resourceVersion", since), ("allowWatchBookmarks", "true")])),
                    stream.status == 200
                else { continue }
                resumes += 1
                do {
                    for try await line in stream.lines {
                        let event = try KubernetesJSON.decoder.decode(JSONValue.self, from: line)
                        let object = event["object"] ?? .null
                        switch event["type"]?.stringValue {
                        case "ERROR": version = nil
                        case "DELETED": cache[object.at("metadata.name")?.stringValue ?? ""] = nil
                        case "BOOKMARK": break
                        default: cache[object.at("metadata.name")?.stringValue ?? ""] = object
                        }
                        if event["type"] != "ERROR" { version = object.at("metadata.resourceVersion")?.stringValue ?? version }
                        if version == nil { break }
                    }
                } catch {}
                try await Task.sleep(for: .milliseconds(150))
                if writesDone.isSet, version != nil {
                    let state = try await client.send(.get, leases)
                    if state.status == 200, state.body.at("metadata.resourceVersion")?.stringValue == version { break }
                }
            }
            await writes
            _ = try await client.send(.delete, "/devapi/faults")
            let final = try await client.send(.get, leases)
            var want: [String: String] = [:]
            for item in final.body["items"]?.arrayValue ?? [] { want[item.at("metadata.name")?.stringValue ?? ""] = item.at("metadata.resourceVersion")?.stringValue }
            #expect(cache.mapValues { $0.at("metadata.resourceVersion")?.stringValue ?? "" } == want)
            #expect(resumes > 2, "the watch was never dropped")
            #expect(relists >= 2, "the compaction never forced a re-list")
        }
    }
}

/// Set once the writer has finished, read by the watching loop.
final class DoneFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
