public import Foundation
import KarbonetesHTTP
public import KarbonetesHTTPClient
public import KarbonetesModels
import KarbonetesTLS

/// How the suite reaches the API server under test: over HTTPS, trusting only its CA, with
/// its bearer token. Objects are `JSONValue` so that the checks see exactly what the server
/// stored, fields the models do not know included.
public final class KubeAPI: Sendable {
    public let server: URL
    private let client: HTTPClient

    public init(server: URL, caPEM: Data, token: String) throws {
        self.server = server
        client = try HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: server, tls: TLSClientConfiguration(trustRoots: .pem(.data(caPEM))),
                authorization: .bearerToken(token),
                connectTimeout: .seconds(5), requestTimeout: .seconds(20), userAgent: "karbonetes-e2e"))
    }

    public func shutdown() async { await client.shutdown() }

    /// The REST path of a collection or object: `jobs` in `batch/v1`, namespaced or not.
    public struct Resource: Sendable, Hashable {
        public var group: String
        public var version: String
        public var plural: String
        public var namespaced: Bool

        public init(group: String, version: String, plural: String, namespaced: Bool) {
            self.group = group
            self.version = version
            self.plural = plural
            self.namespaced = namespaced
        }

        public static let namespaces = Resource(group: "", version: "v1", plural: "namespaces", namespaced: false)
        public static let events = Resource(group: "", version: "v1", plural: "events", namespaced: true)
        public static let jobs = Resource(group: "batch", version: "v1", plural: "jobs", namespaced: true)
        public static let cronJobs = Resource(group: "batch", version: "v1", plural: "cronjobs", namespaced: true)
        public static let leases = Resource(
            group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true)
        public static let policies = Resource(
            group: "carbon-aware.io", version: "v1alpha1", plural: "carbonawarepolicies", namespaced: true)
        public static let crds = Resource(
            group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false)
        public static let webhookConfigurations = Resource(
            group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations",
            namespaced: false)

        /// The resource an object's `apiVersion` and `kind` name.
        public static func of(_ object: JSONValue) -> Resource? {
            let kinds: [String: Resource] = [
                "Namespace": .namespaces, "Job": .jobs, "CronJob": .cronJobs, "Lease": .leases,
                "CarbonAwarePolicy": .policies,
                "CustomResourceDefinition": .crds, "MutatingWebhookConfiguration": .webhookConfigurations,
                "Event": .events,
            ]
            return object["kind"]?.stringValue.flatMap { kinds[$0] }
        }

        public func path(namespace: String? = nil, name: String? = nil) -> String {
            var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            if namespaced, let namespace { path += "/namespaces/\(namespace)" }
            path += "/\(plural)"
            if let name { path += "/\(name)" }
            return path
        }
    }

    // MARK: Calls

    @discardableResult
    public func create(_ object: JSONValue) async throws -> JSONValue {
        guard let resource = Resource.of(object) else {
            throw KubeAPIFailure.unknownKind(object["kind"]?.stringValue ?? "?")
        }
        let namespace = object["metadata"]?["namespace"]?.stringValue
        return try await send(
            .post, resource.path(namespace: namespace), body: object,
            describing: describe(resource, namespace, object.name))
    }

    public func get(_ resource: Resource, namespace: String? = nil, name: String) async throws -> JSONValue {
        try await send(
            .get, resource.path(namespace: namespace, name: name), describing: describe(resource, namespace, name))
    }

    /// The object, or nil on 404.
    public func find(_ resource: Resource, namespace: String? = nil, name: String) async throws -> JSONValue? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch let failure as KubeAPIFailure where failure.status == 404 {
            return .none
        }
    }

    public func list(_ resource: Resource, namespace: String? = nil, labelSelector: String? = nil) async throws
        -> [JSONValue]
    {
        var query: [(name: String, value: String)] = []
        if let labelSelector { query.append((name: "labelSelector", value: labelSelector)) }
        let list = try await send(
            .get, resource.path(namespace: namespace), query: query, describing: describe(resource, namespace, nil))
        return list["items"]?.arrayValue ?? []
    }

    /// An RFC 7386 merge patch.
    @discardableResult
    public func mergePatch(_ resource: Resource, namespace: String? = nil, name: String, _ patch: JSONValue)
        async throws -> JSONValue
    {
        try await send(
            .patch, resource.path(namespace: namespace, name: name), body: patch,
            contentType: "application/merge-patch+json",
            describing: describe(resource, namespace, name))
    }

    /// An RFC 7386 merge patch of the status subresource (what a CronJob controller writes).
    @discardableResult
    public func mergePatchStatus(_ resource: Resource, namespace: String? = nil, name: String, _ patch: JSONValue)
        async throws -> JSONValue
    {
        try await send(
            .patch, resource.path(namespace: namespace, name: name) + "/status", body: patch,
            contentType: "application/merge-patch+json",
            describing: describe(resource, namespace, name) + "/status")
    }

    public func delete(_ resource: Resource, namespace: String? = nil, name: String) async throws {
        _ = try await send(
            .delete, resource.path(namespace: namespace, name: name),
            query: [(name: "propagationPolicy", value: "Background")],
            describing: describe(resource, namespace, name))
    }

    /// Creates the object, or replaces what the merge patch of it changes when it exists.
    public func apply(_ object: JSONValue) async throws {
        do {
            try await create(object)
        } catch let failure as KubeAPIFailure where failure.status == 409 {
            guard let resource = Resource.of(object), let name = object.name else { throw failure }
            try await mergePatch(resource, namespace: object["metadata"]?["namespace"]?.stringValue, name: name, object)
        }
    }

    /// Every watch event (`type` and `object`) on the collection from `resourceVersion` on,
    /// one per line as the server streams them, until the caller stops iterating or the
    /// server ends the stream.
    public func watch(_ resource: Resource, namespace: String?, resourceVersion: String?) async throws
        -> HTTPLineSequence
    {
        var query: [(name: String, value: String)] = [
            (name: "watch", value: "true"), (name: "timeoutSeconds", value: "600"),
        ]
        if let resourceVersion { query.append((name: "resourceVersion", value: resourceVersion)) }
        let response = try await client.stream(
            HTTPClientRequest(method: .get, path: resource.path(namespace: namespace), query: query))
        guard response.status == 200 else {
            throw KubeAPIFailure.status(
                response.status, verb: "watch", object: describe(resource, namespace, nil), body: "")
        }
        return response.lines
    }

    /// The items and the list's resourceVersion, to start a watch from.
    public func listWithVersion(_ resource: Resource, namespace: String?) async throws -> (
        items: [JSONValue], resourceVersion: String?
    ) {
        let list = try await send(
            .get, resource.path(namespace: namespace), describing: describe(resource, namespace, nil))
        return (list["items"]?.arrayValue ?? [], list["metadata"]?["resourceVersion"]?.stringValue)
    }

    /// Any HTTPS GET on the server (`/healthz`, `/readyz`), the status only.
    public func status(of path: String) async -> Int? {
        try? await client.execute(HTTPClientRequest(method: .get, path: path, timeout: .seconds(3))).status
    }

    private func send(
        _ method: HTTPMethod, _ path: String, query: [(name: String, value: String)] = [], body: JSONValue? = nil,
        contentType: String = "application/json", describing object: String
    ) async throws -> JSONValue {
        var headers = HTTPHeaders()
        headers.add("Accept", "application/json")
        var data: Data?
        if let body {
            headers.add("Content-Type", contentType)
            data = try KubernetesJSON.encoder.encode(body)
        }
        let response = try await client.execute(
            HTTPClientRequest(method: method, path: path, query: query, headers: headers, body: data))
        guard (200..<300).contains(response.status) else {
            throw KubeAPIFailure.status(
                response.status, verb: method.rawValue, object: object,
                body: String(decoding: response.body, as: UTF8.self))
        }
        return try KubernetesJSON.decoder.decode(JSONValue.self, from: response.body)
    }

    private func describe(_ resource: Resource, _ namespace: String?, _ name: String?) -> String {
        [resource.plural, namespace, name].compactMap { $0 }.joined(separator: "/")
    }
}

/// A call the API server refused, naming the verb and the object.
public struct KubeAPIFailure: Error, CustomStringConvertible {
    private enum Kind {
        case status(Int, verb: String, object: String, body: String)
        case unknownKind(String)
    }

    private let kind: Kind

    static func status(_ code: Int, verb: String, object: String, body: String) -> KubeAPIFailure {
        KubeAPIFailure(kind: .status(code, verb: verb, object: object, body: body))
    }

    static func unknownKind(_ kind: String) -> KubeAPIFailure { KubeAPIFailure(kind: .unknownKind(kind)) }

    /// The HTTP status, for a refusal.
    public var status: Int? {
        if case .status(let code, _, _, _) = kind { return code }
        return nil
    }

    public var description: String {
        switch kind {
        case .status(let code, let verb, let object, let body):
            return "\(verb) \(object): HTTP \(code): \(body.prefix(1_000))"
        case .unknownKind(let kind): return "the suite does not know the REST path of kind \(kind)"
        }
    }
}
