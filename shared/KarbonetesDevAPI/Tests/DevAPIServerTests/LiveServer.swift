import DevAPIServer
import DevAPIStore
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesLogging
import KarbonetesModels
import KarbonetesTLS

/// A temporary data folder, removed by the caller.
func temporaryDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("devapi-test-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs a server on a free loopback port for `body`, with a client that trusts its CA and
/// carries its token; stops it (draining, writing the data file) afterwards.
func withLiveServer<T: Sendable>(
    dataDirectory: String? = nil,
    historyCapacity: Int = 2_000,
    _ body: @Sendable (DevAPIServer, HTTPClient) async throws -> T
) async throws -> T {
    let directory = dataDirectory ?? temporaryDirectory()
    let server = try DevAPIServer(
        configuration: DevAPIServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: directory, kubeconfigPath: directory + "/kubeconfig",
            historyCapacity: historyCapacity, bookmarkInterval: .milliseconds(200), persistInterval: .milliseconds(100)),
        logger: .disabled)
    let client = try HTTPClient(
        configuration: HTTPClientConfiguration(
            baseURL: URL(string: server.url)!, tls: TLSClientConfiguration(trustRoots: .pem(.data(server.caCertificatePEM))),
            authorization: .bearerToken(server.token), requestTimeout: .seconds(10)))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let result = try await body(server, client)
            await client.shutdown()
            group.cancelAll()
            try await group.waitForAll()
            if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) }
            return result
        } catch {
            await client.shutdown()
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

extension HTTPClient {
    func send(_ method: HTTPMethod, _ path: String, query: [(name: String, value: String)] = [], json: JSONValue? = nil, contentType: String = "application/json", body: String? = nil) async throws -> (status: Int, body: JSONValue) {
        var data: Data?
        if let json { data = try KubernetesJSON.encoder.encode(json) }
        if let body { data = Data(body.utf8) }
        let response = try await execute(HTTPClientRequest(method: method, path: path, query: query, headers: ["Content-Type": contentType, "Accept": "application/json"], body: data))
        let decoded = (try? KubernetesJSON.decoder.decode(JSONValue.self, from: response.body)) ?? .string(String(decoding: response.body, as: UTF8.self))
        return (response.status, decoded)
    }
}

extension JSONValue {
    func at(_ path: String) -> JSONValue? {
        var node: JSONValue? = self
        for key in path.split(separator: ".") { node = node?[String(key)] }
        return node
    }
}

let jobsPath = "/apis/batch/v1/namespaces/default/jobs"

func jobBody(_ name: String, suspend: Bool = true, labels: JSONValue = [:], annotations: JSONValue = [:]) -> JSONValue {
    [
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": ["name": .string(name), "labels": labels, "annotations": annotations],
        "spec": [
            "suspend": .bool(suspend),
            "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "busybox:1.36"]]]],
        ],
    ]
}
