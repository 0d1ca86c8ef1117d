import Foundation
import KarbonetesHTTP
public import KarbonetesHTTPClient
public import KarbonetesKubeConfig
public import KarbonetesLogging
public import KarbonetesMetrics
public import KarbonetesModels

/// One finished API request, for the request counter (`karbonetes_controller_api_requests_total`).
public struct KubeRequestRecord: Sendable, Hashable {
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    public var verb: String
    public var resource: String
    /// The HTTP status code, or `error` when no answer came (connection refused, timeout).
    public var code: String
}

/// A typed Kubernetes API client over any ``KubeTransport``.
///
/// Every request passes the client-side rate limit; a `429 Too Many Requests` (or a 5xx with
/// `Retry-After`) is retried after the delay the server asks for, up to `maxRetries` times;
/// any other error answer is thrown as a ``KubeAPIError``. Writes of partially modelled
/// objects should be patches (see ``KubePatch``); `update` is for fully modelled ones (Lease).
public struct KubeClient: Sendable {
    public let transport: any KubeTransport
    public let rateLimiter: TokenBucketRateLimiter?
    public let clock: any KubeClock
    public let logger: Logger
    /// Retries of one request after 429 or 5xx with `Retry-After`.
    public let maxRetries: Int
    /// A `Retry-After` longer than this is cut to it.
    public let maxRetryAfter: Duration
    private let onRequest: (@Sendable (KubeRequestRecord) -> Void)?

    public init(
        transport: any KubeTransport,
        rateLimiter: TokenBucketRateLimiter? = nil,
        clock: any KubeClock = WallClock(),
        logger: Logger = .disabled,
        maxRetries: Int = 3,
        maxRetryAfter: Duration = .seconds(30),
        onRequest: (@Sendable (KubeRequestRecord) -> Void)? = nil
    ) {
        self.transport = transport
        self.rateLimiter = rateLimiter
        self.clock = clock
        self.logger = logger
        self.maxRetries = maxRetries
        self.maxRetryAfter = maxRetryAfter
        self.onRequest = onRequest
    }

    /// A client for a cluster configuration over the runtime's HTTP client, limited to `qps`
    /// requests a second with bursts of `burst` (client-go's defaults are 5 and 10; a
    /// controller usually sets 20 and 30).
    public init(
        config: KubeConfig, qps: Double = 20, burst: Int = 30, userAgent: String = "karbonetes",
        logger: Logger = .disabled, onRequest: (@Sendable (KubeRequestRecord) -> Void)? = nil
    ) throws {
        let http = try HTTPClient(configuration: config.httpClientConfiguration(userAgent: userAgent))
        self.init(
            transport: http, rateLimiter: TokenBucketRateLimiter(qps: qps, burst: burst), logger: logger, onRequest: onRequest)
    }

    /// The same connection pool, metrics and retries behind another rate limit (nil: none). Leader
    /// election should get its own, so that a controller busy at its QPS limit cannot starve the
    /// lease renewals and lose leadership for that.
    public func withRateLimiter(_ rateLimiter: TokenBucketRateLimiter?) -> KubeClient {
        KubeClient(
            transport: transport, rateLimiter: rateLimiter, clock: clock, logger: logger, maxRetries: maxRetries,
            maxRetryAfter: maxRetryAfter, onRequest: onRequest)
    }

    /// Closes the HTTP client's idle connections (a no-op for other transports); requests after
    /// this fail.
    public func shutdown() async {
        if let http = transport as? HTTPClient { await http.shutdown() }
    }

    /// Counts every request in `counter` with the labels `verb` and `code`.
    public static func counting(into counter: Counter) -> @Sendable (KubeRequestRecord) -> Void {
        { record in counter.increment(labels: ["verb": record.verb, "code": record.code]) }
    }

    // MARK: Typed calls

    public func get<T: Codable & Sendable>(
        _ type: T.Type, _ resource: ResourceDescriptor, namespace: String? = nil, name: String, subresource: String? = nil,
        timeout: Duration? = nil
    ) async throws -> T {
        let object = Self.describe(resource, namespace: namespace, name: name)
        let response = try await send(
            verb: "get", object: object, resource: resource,
            HTTPClientRequest(
                method: .get, path: try path(resource, namespace: namespace, name: name, subresource: subresource, object: object),
                timeout: timeout))
        return try decode(type, response.body, object: object)
    }

    /// One page; follow `metadata.continue` with ``ListOptions/continue`` or use ``listAll(_:_:namespace:options:)``.
    public func list<T: Codable & Sendable>(
        _ type: T.Type, _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws -> ObjectList<T> {
        let object = Self.describe(resource, namespace: namespace, name: nil)
        let response = try await send(
            verb: "list", object: object, resource: resource,
            HTTPClientRequest(method: .get, path: resource.path(namespace: namespace), query: options.queryItems))
        return try decode(ObjectList<T>.self, response.body, object: object)
    }

    /// Every page, in `limit`-sized requests; the result carries the resourceVersion of the
    /// first page (the snapshot all pages belong to), where a watch should start.
    public func listAll<T: Codable & Sendable>(
        _ type: T.Type, _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws -> ObjectList<T> {
        var options = options
        var result: ObjectList<T>?
        repeat {
            let page = try await list(type, resource, namespace: namespace, options: options)
            if result == nil {
                result = page
            } else {
                result?.items.append(contentsOf: page.items)
            }
            options.continue = page.metadata.continue
            options.resourceVersion = nil
        } while !(options.continue ?? "").isEmpty
        result?.metadata.continue = nil
        return result ?? ObjectList(items: [])
    }

    /// POSTs `object`; the namespace is `namespace` or the object's own.
    public func create<T: Codable & Sendable>(
        _ object: T, _ resource: ResourceDescriptor, namespace: String? = nil, timeout: Duration? = nil
    ) async throws -> T {
        let name = (object as? any KubernetesObject)?.metadata.name
        let namespace = namespace ?? (object as? any KubernetesObject)?.metadata.namespace
        let described = Self.describe(resource, namespace: namespace, name: name)
        try requireNamespace(resource, namespace, object: described)
        let body = try encode(object, object: described)
        let response = try await send(
            verb: "create", object: described, resource: resource,
            HTTPClientRequest(method: .post, path: resource.path(namespace: namespace), headers: Self.jsonHeaders, body: body, timeout: timeout))
        return try decode(T.self, response.body, object: described)
    }

    /// PUTs the whole object with its `metadata.resourceVersion` as the precondition: a
    /// concurrent write makes it fail with 409 (`isConflict`). Only for fully modelled types.
    public func update<T: KubernetesObject>(
        _ object: T, _ resource: ResourceDescriptor, subresource: String? = nil, timeout: Duration? = nil
    ) async throws -> T {
        let name = object.metadata.name
        let described = Self.describe(resource, namespace: object.metadata.namespace, name: name)
        guard let name, !name.isEmpty else { throw KubeClientError.invalidArgument(described, "update needs metadata.name") }
        let body = try encode(object, object: described)
        let response = try await send(
            verb: "update", object: described, resource: resource,
            HTTPClientRequest(
                method: .put,
                path: try path(resource, namespace: object.metadata.namespace, name: name, subresource: subresource, object: described),
                headers: Self.jsonHeaders, body: body, timeout: timeout))
        return try decode(T.self, response.body, object: described)
    }

    public func patch<T: Codable & Sendable>(
        _ type: T.Type, _ resource: ResourceDescriptor, namespace: String? = nil, name: String, patch: KubePatch,
        subresource: String? = nil
    ) async throws -> T {
        let described = Self.describe(resource, namespace: namespace, name: name)
        // Written directly (the same bytes KubernetesJSON.encoder writes): JSONEncoder over the
        // Codable JSONValue was 12% of the controller's CPU while it released (perf).
        let body: Data =
            switch patch {
            case .json(let operations): operations.jsonData
            case .merge(let value), .strategicMerge(let value): JSONValueWriter.data(value)
            }
        var headers = HTTPHeaders()
        headers.add("Content-Type", patch.contentType)
        headers.add("Accept", "application/json")
        let response = try await send(
            verb: "patch", object: described, resource: resource,
            HTTPClientRequest(
                method: .patch, path: try path(resource, namespace: namespace, name: name, subresource: subresource, object: described),
                headers: headers, body: body))
        return try decode(type, response.body, object: described)
    }

    /// Deletes; the answer (the object with a `deletionTimestamp`, or a `Status`) is not decoded.
    public func delete(
        _ resource: ResourceDescriptor, namespace: String? = nil, name: String, options: DeleteOptions = DeleteOptions()
    ) async throws {
        let described = Self.describe(resource, namespace: namespace, name: name)
        var request = HTTPClientRequest(method: .delete, path: try path(resource, namespace: namespace, name: name, subresource: nil, object: described))
        if !options.isEmpty {
            request.headers = Self.jsonHeaders
            request.body = try encode(options, object: described)
        }
        _ = try await send(verb: "delete", object: described, resource: resource, request)
    }

    /// Opens a watch. Each element is one event; the sequence ends when the server closes the
    /// watch (its timeout) and throws when the connection breaks, so callers resume from the
    /// last `resourceVersion` they saw. An `ERROR` event arrives as an element, as sent.
    public func watch<T: Codable & Sendable>(
        _ type: T.Type, _ resource: ResourceDescriptor, namespace: String? = nil, options: WatchOptions = WatchOptions()
    ) async throws -> KubeWatch<T> {
        let described = Self.describe(resource, namespace: namespace, name: nil)
        var request = HTTPClientRequest(method: .get, path: resource.path(namespace: namespace), query: options.queryItems)
        if let seconds = options.timeoutSeconds, seconds > 0 {
            request.timeout = .seconds(seconds + 30)
        }
        let response = try await sendStream(verb: "watch", object: described, resource: resource, request)
        return KubeWatch(lines: response.lines, object: described)
    }

    // MARK: Typed shorthands for model types that know their resource

    public func get<T: KubernetesResource>(_ type: T.Type, namespace: String? = nil, name: String) async throws -> T {
        try await get(type, T.resource, namespace: namespace, name: name)
    }

    public func list<T: KubernetesResource>(_ type: T.Type, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        try await list(type, T.resource, namespace: namespace, options: options)
    }

    public func create<T: KubernetesResource>(_ object: T, namespace: String? = nil) async throws -> T {
        try await create(object, T.resource, namespace: namespace)
    }

    public func update<T: KubernetesResource>(_ object: T, subresource: String? = nil) async throws -> T {
        try await update(object, T.resource, subresource: subresource)
    }

    public func patch<T: KubernetesResource>(
        _ type: T.Type, namespace: String? = nil, name: String, patch: KubePatch, subresource: String? = nil
    ) async throws -> T {
        try await self.patch(type, T.resource, namespace: namespace, name: name, patch: patch, subresource: subresource)
    }

    public func watch<T: KubernetesResource>(_ type: T.Type, namespace: String? = nil, options: WatchOptions = WatchOptions()) async throws -> KubeWatch<T> {
        try await watch(type, T.resource, namespace: namespace, options: options)
    }

    // MARK: The request path every call takes

    /// Sends one request through the rate limit, the retry policy and the request counter, and
    /// throws a ``KubeAPIError`` for an error answer. For calls the typed methods do not cover.
    public func send(verb: String, object: String, resource: ResourceDescriptor, _ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        var attempt = 0
        while true {
            try await rateLimiter?.acquire()
            let response: HTTPClientResponse
            do {
                response = try await transport.execute(request)
            } catch {
                record(verb, resource, code: "error")
                throw error
            }
            record(verb, resource, code: String(response.status))
            if (200..<300).contains(response.status) { return response }
            let error = KubeAPIError.response(
                code: response.status, body: response.body, retryAfterHeader: response.headers["Retry-After"], verb: verb, object: object)
            try await retryOrThrow(error, attempt: &attempt)
        }
    }

    /// As ``send(verb:object:resource:_:)`` for a streamed answer; an error answer's body is read
    /// (capped) to decode its `Status`.
    public func sendStream(verb: String, object: String, resource: ResourceDescriptor, _ request: HTTPClientRequest) async throws -> KubeStreamingResponse {
        var attempt = 0
        while true {
            try await rateLimiter?.acquire()
            let response: KubeStreamingResponse
            do {
                response = try await transport.stream(request)
            } catch {
                record(verb, resource, code: "error")
                throw error
            }
            record(verb, resource, code: String(response.status))
            if (200..<300).contains(response.status) { return response }
            var body = Data()
            for try await line in response.lines {
                body.append(line)
                if body.count > 64 * 1024 { break }
            }
            let error = KubeAPIError.response(
                code: response.status, body: body, retryAfterHeader: response.headers["Retry-After"], verb: verb, object: object)
            try await retryOrThrow(error, attempt: &attempt)
        }
    }

    private func retryOrThrow(_ error: KubeAPIError, attempt: inout Int) async throws {
        let retryable = error.isTooManyRequests || (error.isServerError && error.retryAfter != nil)
        guard retryable, attempt < maxRetries else { throw error }
        attempt += 1
        let delay = min(error.retryAfter ?? .seconds(1), maxRetryAfter)
        logger.debug(
            "retrying after the server asked to wait",
            metadata: ["request.verb": error.verb, "request.object": error.object, "http.code": String(error.code), "retry.after": "\(delay)"])
        try await clock.sleep(for: delay)
    }

    private func record(_ verb: String, _ resource: ResourceDescriptor, code: String) {
        onRequest?(KubeRequestRecord(verb: verb, resource: resource.description, code: code))
    }

    // MARK: Helpers

    static let jsonHeaders: HTTPHeaders = {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Accept", "application/json")
        return headers
    }()

    static func describe(_ resource: ResourceDescriptor, namespace: String?, name: String?) -> String {
        let key = [resource.namespaced ? namespace : nil, name].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
        return key.isEmpty ? resource.description : "\(resource.description) \(key)"
    }

    private func path(_ resource: ResourceDescriptor, namespace: String?, name: String, subresource: String?, object: String) throws -> String {
        guard !name.isEmpty else { throw KubeClientError.invalidArgument(object, "the name is empty") }
        try requireNamespace(resource, namespace, object: object)
        return resource.path(namespace: namespace, name: name, subresource: subresource)
    }

    private func requireNamespace(_ resource: ResourceDescriptor, _ namespace: String?, object: String) throws {
        if resource.namespaced, (namespace ?? "").isEmpty {
            throw KubeClientError.invalidArgument(object, "\(resource.plural) are namespaced: a namespace is required")
        }
    }

    /// Through KarbonetesModels' token tape (what KubernetesJSON.decoder reads, a few times
    /// cheaper): every answer and list goes through here.
    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, object: String) throws -> T {
        do {
            return try KubernetesJSON.decode(type, from: data)
        } catch {
            throw KubeClientError.undecodable(object, error)
        }
    }

    private func encode(_ value: some Encodable, object: String) throws -> Data {
        do {
            return try KubernetesJSON.encoder.encode(value)
        } catch {
            throw KubeClientError.unencodable(object, error)
        }
    }
}
