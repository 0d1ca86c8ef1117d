public import DevAPIStore
import Foundation
public import KarbonetesHTTP
public import KarbonetesLogging
import KarbonetesModels
import Synchronization

/// The Kubernetes REST API over the shared store: discovery, CRUD, status subresources,
/// list and watch, admission on writes, bearer-token authentication, and the `/devapi/…`
/// admin endpoints for fault injection.
public struct DevAPIHandler: HTTPHandler {
    let store: SharedStore
    let token: String
    let faults: FaultInjector
    let admission: AdmissionChain
    let serverAddress: String
    let bookmarkInterval: Duration
    let logger: Logger

    public init(store: SharedStore, token: String, faults: FaultInjector, serverAddress: String, bookmarkInterval: Duration = .seconds(10), logger: Logger) {
        self.store = store
        self.token = token
        self.faults = faults
        self.admission = AdmissionChain(logger: logger)
        self.serverAddress = serverAddress
        self.bookmarkInterval = bookmarkInterval
        self.logger = logger
    }

    private static let anonymousPaths: Set<String> = ["/healthz", "/readyz", "/livez", "/version"]

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if Self.anonymousPaths.contains(request.path) {
            return request.path == "/version" ? json(Discovery.version) : .text("ok")
        }
        guard request.headers["Authorization"] == "Bearer \(token)" else { return failure(.unauthorized()) }
        do {
            return try await route(request)
        } catch {
            if error.code >= 500 { logger.warning("request failed", metadata: ["http.path": request.path, "error": error.description]) }
            return failure(error)
        }
    }

    private func route(_ request: HTTPRequest) async throws(StoreError) -> HTTPResponse {
        switch request.path {
        case "/api", "/api/": return json(Discovery.versions(serverAddress: serverAddress))
        case "/apis", "/apis/": return json(Discovery.groupList(store.read { $0.types }))
        default: break
        }
        if request.path.hasPrefix("/devapi/") { return try admin(request) }
        if request.path == "/openapi/v3" { return json(OpenAPIDocument.root(store.read { $0.types })) }
        if request.path.hasPrefix("/openapi/v3/") {
            let key = String(request.path.dropFirst("/openapi/v3/".count))
            guard let document = OpenAPIDocument.groupVersion(key, types: store.read({ $0.types })) else { throw notFound() }
            return json(document)
        }
        let segments = request.path.split(separator: "/")
        if segments.count == 2, segments[0] == "apis" {
            guard let group = Discovery.group(named: String(segments[1]), in: store.read({ $0.types })) else { throw notFound() }
            return json(group)
        }
        guard let path = APIPath(request.path) else { throw notFound() }
        guard let resource = path.resource else {
            guard let list = Discovery.resourceList(group: path.group, version: path.version, types: store.read({ $0.types })) else {
                throw notFound()
            }
            return json(list)
        }
        guard let type = store.read({ $0.type(group: path.group, version: path.version, resource: resource) }) else { throw notFound() }
        if let subresource = path.subresource, !(subresource == "status" && type.hasStatusSubresource) { throw notFound() }
        if type.namespaced == false, path.namespace != nil { throw notFound() }
        let decision = faults.decide(resource: type.resource)
        if let latency = decision.latency { try? await Task.sleep(for: latency) }
        if let code = decision.errorCode { return injected(code, type: type) }
        return try await serve(request, type: type, namespace: path.namespace, name: path.name, statusOnly: path.subresource == "status")
    }

    private func serve(_ request: HTTPRequest, type: ResourceType, namespace: String?, name: String?, statusOnly: Bool) async throws(StoreError) -> HTTPResponse {
        let dryRun = request.query("dryRun") == "All"
        switch (request.method, name) {
        case (.get, let name?):
            let object = try store.read { store throws(StoreError) in try store.get(type, namespace: namespace, name: name) }
            if TableRendering.wantsTable(request.headers["Accept"]) {
                let version = object["metadata"]?["resourceVersion"]?.stringValue ?? ""
                return json(TableRendering.table(type, items: [object], resourceVersion: version, now: store.now))
            }
            return json(object)
        case (.get, nil):
            if ["true", "1"].contains(request.query("watch") ?? "") { return try watch(request, type: type, namespace: namespace) }
            let options = try listOptions(request)
            let result = try store.read { store throws(StoreError) in try store.list(type, namespace: namespace, options: options) }
            if TableRendering.wantsTable(request.headers["Accept"]) {
                return json(TableRendering.table(type, items: result.items, resourceVersion: result.resourceVersion, continueToken: result.continueToken, now: store.now))
            }
            var metadata: [String: JSONValue] = ["resourceVersion": .string(result.resourceVersion)]
            if let token = result.continueToken { metadata["continue"] = .string(token) }
            if let remaining = result.remainingItemCount { metadata["remainingItemCount"] = .number(Double(remaining)) }
            return json(["apiVersion": .string(type.apiVersion), "kind": .string(type.listKind), "metadata": .object(metadata), "items": .array(result.items)])
        case (.post, nil):
            guard !statusOnly else { throw .methodNotAllowed("create is not allowed on the status subresource") }
            var object = try body(request)
            if type.namespaced, let namespace { object = setNamespace(object, namespace) }
            object = try await admission.admit(
                AdmissionChain.Request(object: object, oldObject: nil, operation: "CREATE", type: type, namespace: namespace, dryRun: dryRun), store: store)
            let admitted = object
            let created = try write(dryRun: dryRun) { store, now throws(StoreError) in try store.create(admitted, type: type, namespace: namespace, now: now) }
            return json(created, status: .created)
        case (.put, let name?):
            var object = try body(request)
            if !statusOnly, try hasMatchingWebhooks() {
                let old = try store.read { store throws(StoreError) in try store.get(type, namespace: namespace, name: name) }
                object = try await admission.admit(
                    AdmissionChain.Request(object: object, oldObject: old, operation: "UPDATE", type: type, namespace: namespace, dryRun: dryRun), store: store)
            }
            let admitted = object
            let updated = try write(dryRun: dryRun) { store, now throws(StoreError) in
                try store.update(admitted, type: type, namespace: namespace, name: name, statusOnly: statusOnly, now: now)
            }
            return json(updated)
        case (.patch, let name?):
            let contentType = request.headers["Content-Type"] ?? ""
            guard let format = PatchFormat(contentType: contentType) else { throw .unsupportedMediaType(contentType) }
            if !statusOnly, try hasMatchingWebhooks() {
                // Webhooks see a patch as the UPDATE it makes: the patched object, then stored
                // with the old resourceVersion as precondition (a concurrent write is 409).
                let now = store.now
                let (old, candidate) = try store.read { store throws(StoreError) -> (JSONValue, JSONValue) in
                    let old = try store.get(type, namespace: namespace, name: name)
                    var copy = store
                    let patched = try copy.patch(request.body, format: format, type: type, namespace: namespace, name: name, now: now)
                    return (old, withResourceVersion(patched, of: old))
                }
                let admitted = try await admission.admit(
                    AdmissionChain.Request(object: candidate, oldObject: old, operation: "UPDATE", type: type, namespace: namespace, dryRun: dryRun), store: store)
                let updated = try write(dryRun: dryRun) { store, now throws(StoreError) in
                    try store.update(admitted, type: type, namespace: namespace, name: name, now: now)
                }
                return json(updated)
            }
            let patched = try write(dryRun: dryRun) { store, now throws(StoreError) in
                try store.patch(request.body, format: format, type: type, namespace: namespace, name: name, statusOnly: statusOnly, now: now)
            }
            return json(patched)
        case (.delete, let name?):
            let options = try deleteOptions(request)
            let deleted = try write(dryRun: dryRun) { store, now throws(StoreError) in
                try store.delete(type, namespace: namespace, name: name, options: options, now: now)
            }
            return json(deleted)
        case (.delete, nil):
            let listOptions = try listOptions(request)
            let options = try deleteOptions(request)
            let deleted = try write(dryRun: dryRun) { store, now throws(StoreError) -> [JSONValue] in
                let items = try store.list(type, namespace: namespace, options: listOptions).items
                var deleted: [JSONValue] = []
                for item in items {
                    guard let itemName = item["metadata"]?["name"]?.stringValue else { continue }
                    deleted.append(try store.delete(type, namespace: item["metadata"]?["namespace"]?.stringValue, name: itemName, options: options, now: now))
                }
                return deleted
            }
            return json(["apiVersion": .string(type.apiVersion), "kind": .string(type.listKind), "metadata": [:], "items": .array(deleted)])
        default:
            throw .methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    // MARK: Watch

    private func watch(_ request: HTTPRequest, type: ResourceType, namespace: String?) throws(StoreError) -> HTTPResponse {
        let options = try listOptions(request)
        let requested = request.query("resourceVersion") ?? ""
        var since: UInt64?
        if !requested.isEmpty {
            guard let parsed = UInt64(requested) else { throw .badRequest("invalid resourceVersion \"\(requested)\"") }
            since = parsed
        }
        let timeout = request.query("timeoutSeconds").flatMap(Int.init).map { Duration.seconds(max(1, $0)) } ?? .seconds(1_800)
        let bookmarks = request.query("allowWatchBookmarks") == "true" ? bookmarkInterval : nil
        let asTable = TableRendering.wantsTable(request.headers["Accept"])
        let tableHeaderSent = Mutex(false)
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Cache-Control": "no-cache, private"]
        headers.add("X-Content-Type-Options", "nosniff")
        do {
            let stream = try store.watch(
                type, namespace: namespace, since: since,
                options: WatchOptions(list: options, timeout: timeout, bookmarkInterval: bookmarks)
            ) { [store] signal in
                guard asTable else { return Self.watchLine(signal, type: type) }
                let first = tableHeaderSent.withLock { sent in
                    defer { sent = true }
                    return !sent
                }
                return Self.tableWatchLine(signal, type: type, includeColumns: first, now: store.now)
            }
            return HTTPResponse(status: .ok, headers: headers, body: .stream(stream))
        } catch where error.code == 410 {
            let line = Self.encodeLine(["type": "ERROR", "object": (try? JSONValue(encoding: error.status)) ?? .null])
            return HTTPResponse(status: .ok, headers: headers, body: .stream(AsyncStream { continuation in
                continuation.yield(line)
                continuation.finish()
            }))
        }
    }

    static func watchLine(_ signal: WatchSignal, type: ResourceType) -> Data {
        switch signal {
        case .record(let record):
            let encode = { encodeLine(["type": .string(record.type.rawValue), "object": record.object]) }
            return record.encodedOnce?.value(encode) ?? encode()
        case .bookmark(let version):
            return encodeLine([
                "type": "BOOKMARK",
                "object": ["kind": .string(type.kind), "apiVersion": .string(type.apiVersion), "metadata": ["resourceVersion": .string(String(version))]],
            ])
        }
    }

    /// A watch event for `kubectl get -w`: the object as a one-row Table, the columns only
    /// in the first event, as the real server sends them.
    static func tableWatchLine(_ signal: WatchSignal, type: ResourceType, includeColumns: Bool, now: Date) -> Data {
        guard case .record(let record) = signal else { return watchLine(signal, type: type) }
        var table = TableRendering.table(
            type, items: [record.object], resourceVersion: record.object["metadata"]?["resourceVersion"]?.stringValue ?? "", now: now)
        if !includeColumns, case .object(var members) = table {
            members["columnDefinitions"] = nil
            table = .object(members)
        }
        return encodeLine(["type": .string(record.type.rawValue), "object": table])
    }

    static func encodeLine(_ value: JSONValue) -> Data {
        var data = JSONValueWriter.data(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    // MARK: Admin

    private func admin(_ request: HTTPRequest) throws(StoreError) -> HTTPResponse {
        switch (request.method, request.path) {
        case (.get, "/devapi/faults"):
            return HTTPResponse.json(faults.current, encoder: KubernetesJSON.encoder)
        case (.put, "/devapi/faults"), (.post, "/devapi/faults"):
            do {
                faults.replace(with: try KubernetesJSON.decoder.decode(FaultConfiguration.self, from: request.body))
            } catch {
                throw .badRequest("the fault configuration is not valid: \(error)")
            }
            logger.notice("fault injection changed", metadata: ["faults.rules": String(faults.current.rules.count)])
            return HTTPResponse.json(faults.current, encoder: KubernetesJSON.encoder)
        case (.delete, "/devapi/faults"):
            faults.replace(with: FaultConfiguration())
            return HTTPResponse.json(faults.current, encoder: KubernetesJSON.encoder)
        case (.post, "/devapi/compact"):
            store.write { store, _ in store.compactHistory() }
            let version = store.read { $0.resourceVersion }
            logger.notice("watch history compacted", metadata: ["resourceVersion": String(version)])
            return json(["compactedThrough": .string(String(version))])
        case (.post, "/devapi/drop-watches"):
            let resource = request.query("resource")
            let storage = resource.flatMap { name in store.read { $0.types.first { $0.resource == name }?.storageKey } }
            let count = store.openWatchCount
            store.dropWatches(of: storage)
            return json(["dropped": .number(Double(count - store.openWatchCount))])
        default:
            throw notFound()
        }
    }

    // MARK: Helpers

    private func write<Result: Sendable>(dryRun: Bool, _ body: (inout DevAPIStore, Date) throws(StoreError) -> Result) throws(StoreError) -> Result {
        if dryRun {
            let now = store.now
            return try store.read { store throws(StoreError) in
                var copy = store
                return try body(&copy, now)
            }
        }
        return try store.write(body)
    }

    private func hasMatchingWebhooks() throws(StoreError) -> Bool {
        try store.read { store throws(StoreError) in try !store.list(.mutatingWebhookConfigurations, namespace: nil).items.isEmpty }
    }

    private func body(_ request: HTTPRequest) throws(StoreError) -> JSONValue {
        let contentType = (request.headers["Content-Type"] ?? "application/json").lowercased()
        if contentType.hasPrefix(KubernetesProtobuf.contentType) {
            switch KubernetesProtobuf.decode(request.body) {
            case .success(let object): return object
            case .failure(let reason): throw .other(code: 415, reason: Status.Reason.unsupportedMediaType, message: reason.description)
            }
        }
        guard contentType.hasPrefix("application/json") || contentType.isEmpty else { throw .unsupportedMediaType(contentType) }
        do {
            return try KubernetesJSON.decoder.decode(JSONValue.self, from: request.body)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error)")
        }
    }

    private func withResourceVersion(_ object: JSONValue, of old: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        var metadata = members["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = old["metadata"]?["resourceVersion"]
        members["metadata"] = .object(metadata)
        return .object(members)
    }

    private func setNamespace(_ object: JSONValue, _ namespace: String) -> JSONValue {
        guard case .object(var members) = object else { return object }
        var metadata = members["metadata"]?.objectValue ?? [:]
        if metadata["namespace"] == nil { metadata["namespace"] = .string(namespace) }
        members["metadata"] = .object(metadata)
        return .object(members)
    }

    private func listOptions(_ request: HTTPRequest) throws(StoreError) -> ListOptions {
        var options = ListOptions()
        if let labels = request.query("labelSelector") { options.labelSelector = try LabelSelector(parsing: labels) }
        if let fields = request.query("fieldSelector") { options.fieldSelector = try FieldSelector(parsing: fields) }
        if let limit = request.query("limit"), !limit.isEmpty {
            guard let value = Int(limit), value >= 0 else { throw .badRequest("invalid limit \"\(limit)\"") }
            options.limit = value
        }
        options.continueToken = request.query("continue")
        return options
    }

    private func deleteOptions(_ request: HTTPRequest) throws(StoreError) -> DeleteOptions {
        var options = DeleteOptions(propagationPolicy: request.query("propagationPolicy"))
        if !request.body.isEmpty {
            let body: JSONValue
            do {
                body = try KubernetesJSON.decoder.decode(JSONValue.self, from: request.body)
            } catch {
                throw .badRequest("the DeleteOptions body is not valid JSON: \(error)")
            }
            options.uid = body["preconditions"]?["uid"]?.stringValue
            options.resourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            options.propagationPolicy = body["propagationPolicy"]?.stringValue ?? options.propagationPolicy
        }
        return options
    }

    private func notFound() -> StoreError {
        .other(code: 404, reason: Status.Reason.notFound, message: "the server could not find the requested resource")
    }

    private func injected(_ code: Int, type: ResourceType) -> HTTPResponse {
        let reason: String
        switch code {
        case 409: reason = Status.Reason.conflict
        case 429: reason = Status.Reason.tooManyRequests
        case 503: reason = Status.Reason.serviceUnavailable
        default: reason = Status.Reason.internalError
        }
        var response = failure(.other(code: code, reason: reason, message: "injected fault for \(type): \(code)"))
        if code == 429 { response.headers.replaceOrAdd("Retry-After", "1") }
        return response
    }

    private func json(_ value: JSONValue, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse.jsonData(JSONValueWriter.data(value), status: status)
    }

    private func failure(_ error: StoreError) -> HTTPResponse {
        HTTPResponse.json(error.status, status: HTTPStatus(code: error.code), encoder: KubernetesJSON.encoder)
    }
}
