public import Foundation
import KarbonetesHTTP
public import KarbonetesHTTPClient
public import KarbonetesKubeClient
public import KarbonetesModels

/// An in-process API server behind the ``KubeTransport`` protocol, for unit tests of code that
/// talks to Kubernetes: objects kept as JSON, `resourceVersion` on every write with optimistic
/// concurrency (409), list paging, watches with history, bookmarks and 410 after compaction,
/// merge and JSON patches, and faults on demand (dropped watches, compaction, error answers).
///
/// It is not `karbonetes-devapi` (no HTTP, no admission): it is small enough to read, so a
/// test's expectations stay obvious. The integration tests run against the real binary.
public actor FakeAPIServer: KubeTransport {
    /// What a request asked for, for assertions on what the client sent.
    public struct RecordedRequest: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var contentType: String?
        public var body: Data?
    }

    private struct Collection: Hashable {
        var prefix: String
        var plural: String
    }

    private struct Target {
        var collection: Collection
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    private struct HistoryEntry {
        var resourceVersion: Int
        var type: WatchEventType
        var collection: Collection
        var object: JSONValue
    }

    private struct Watcher {
        var collection: Collection
        var namespace: String?
        var labelSelector: String?
        var bookmarks: Bool
        var continuation: AsyncThrowingStream<Data, any Error>.Continuation
    }

    private struct StoreKey: Hashable {
        var collection: Collection
        var namespace: String
        var name: String
    }

    private var objects: [StoreKey: JSONValue] = [:]
    private var resourceVersion = 100
    private var history: [HistoryEntry] = []
    /// Watches from versions below this get 410 Gone.
    private var oldestVersion = 0
    /// The full result of each paged list, by the snapshot id its continue tokens carry: later pages are served
    /// from it, as the API server serves them from the first page's snapshot. (Serving them from
    /// the current objects skipped an object whenever one before it was deleted between pages,
    /// and the informer soak test then lost it.)
    private var listSnapshots: [Int: [JSONValue]] = [:]
    private var nextSnapshotID = 0
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcherID = 0
    private var nextUID = 0
    private var queuedFailures: [(code: Int, retryAfter: Int?, matches: @Sendable (RecordedRequest) -> Bool)] = []
    private var persistentFailure: (code: Int, matches: @Sendable (RecordedRequest) -> Bool)?
    public private(set) var requests: [RecordedRequest] = []
    private let clock: any KubeClock
    /// Keeps at most this many history entries; older ones are compacted away.
    public var historyLimit: Int

    public init(clock: any KubeClock = WallClock(), historyLimit: Int = 10_000) {
        self.clock = clock
        self.historyLimit = historyLimit
    }

    // MARK: Faults and inspection

    /// Ends every open watch, as a load balancer or an API server restart does.
    public func dropWatches() {
        for watcher in watchers.values { watcher.continuation.finish() }
        watchers.removeAll()
    }

    /// Ends every open watch with a connection error.
    public func breakWatches() {
        for watcher in watchers.values { watcher.continuation.finish(throwing: FakeConnectionReset()) }
        watchers.removeAll()
    }

    /// Forgets all history: any watch from an older version gets 410 Gone; open watches get
    /// an `ERROR` event with code 410 and end, as etcd compaction does.
    public func compact() {
        history.removeAll()
        oldestVersion = resourceVersion + 1
        let status = Status(message: "too old resource version", reason: Status.Reason.gone, code: 410)
        for watcher in watchers.values {
            watcher.continuation.yield(Self.line(WatchEvent<JSONValue>(error: status)))
            watcher.continuation.finish()
        }
        watchers.removeAll()
    }

    /// Sends an `ERROR` event with this code to every open watch and ends them, as an API
    /// server does for an internal error mid-watch.
    public func sendWatchError(code: Int) {
        let status = Status(message: "injected watch error \(code)", reason: Self.reason(code), code: code)
        for watcher in watchers.values {
            watcher.continuation.yield(Self.line(WatchEvent<JSONValue>(error: status)))
            watcher.continuation.finish()
        }
        watchers.removeAll()
    }

    /// Sends a `BOOKMARK` with the current version to every watch that asked for bookmarks.
    public func sendBookmarks() {
        let bookmark: JSONValue = ["kind": "Bookmark", "metadata": ["resourceVersion": .string(String(resourceVersion))]]
        for watcher in watchers.values where watcher.bookmarks {
            watcher.continuation.yield(Self.line(WatchEvent(type: .bookmark, object: bookmark)))
        }
    }

    /// The next request that `matches` gets `code` (with `Retry-After` when given) instead.
    public func failNext(code: Int, retryAfter: Int? = nil, where matches: @escaping @Sendable (RecordedRequest) -> Bool = { _ in true }) {
        queuedFailures.append((code, retryAfter, matches))
    }

    /// Every request that `matches` gets `code` until ``stopFailing()``: an API server outage.
    public func failAll(code: Int, where matches: @escaping @Sendable (RecordedRequest) -> Bool = { _ in true }) {
        persistentFailure = (code, matches)
    }

    public func stopFailing() { persistentFailure = nil }

    public var openWatchCount: Int { watchers.count }
    public var currentResourceVersion: String { String(resourceVersion) }

    /// Every stored object of a resource, decoded.
    public func stored<T: Decodable>(_ type: T.Type, _ resource: ResourceDescriptor) throws -> [T] {
        let collection = Self.collection(resource)
        return try objects.filter { $0.key.collection == collection }.sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
            .map { try $0.value.decode(as: type) }
    }

    /// Puts an object straight into the store (as another client would), with events.
    @discardableResult
    public func seed(_ object: some Encodable, _ resource: ResourceDescriptor) throws -> JSONValue {
        let value = try JSONValue(encoding: object)
        let namespace = value["metadata"]?["namespace"]?.stringValue
        let target = Target(collection: Self.collection(resource), namespace: resource.namespaced ? (namespace ?? "default") : nil, name: nil)
        let response = create(target, body: try KubernetesJSON.encoder.encode(value))
        return try KubernetesJSON.decoder.decode(JSONValue.self, from: response.body)
    }

    // MARK: KubeTransport

    public func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let recorded = record(request)
        if let failure = takeFailure(recorded) { return failure }
        guard let target = Self.parse(request.path) else {
            return Self.status(404, Status.Reason.notFound, "no such path \(request.path)")
        }
        switch (request.method, target.name) {
        case (.get, nil): return list(target, query: recorded.query)
        case (.get, _): return get(target)
        case (.post, nil): return create(target, body: request.body ?? Data())
        case (.put, .some): return update(target, body: request.body ?? Data())
        case (.patch, .some): return patch(target, contentType: recorded.contentType, body: request.body ?? Data())
        case (.delete, .some): return delete(target, body: request.body)
        default: return Self.status(405, Status.Reason.methodNotAllowed, "\(request.method) \(request.path)")
        }
    }

    public func stream(_ request: HTTPClientRequest) async throws -> KubeStreamingResponse {
        let recorded = record(request)
        if let failure = takeFailure(recorded) {
            return KubeStreamingResponse(status: failure.status, headers: failure.headers, lines: Self.lines([failure.body]))
        }
        guard let target = Self.parse(request.path), target.name == nil, recorded.query["watch"] == "true" else {
            let failure = Self.status(400, Status.Reason.badRequest, "not a watch: \(request.path)")
            return KubeStreamingResponse(status: 400, lines: Self.lines([failure.body]))
        }
        let selector = recorded.query["labelSelector"]
        let since = recorded.query["resourceVersion"].flatMap { Int($0) } ?? 0
        let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .unbounded)
        if since > 0, since < oldestVersion - 1 {
            let status = Status(message: "too old resource version: \(since) (\(oldestVersion - 1))", reason: Status.Reason.gone, code: 410)
            continuation.yield(Self.line(WatchEvent<JSONValue>(error: status)))
            continuation.finish()
            return KubeStreamingResponse(status: 200, lines: stream)
        }
        if since == 0 {
            for (key, object) in objects.sorted(by: { $0.key.name < $1.key.name })
            where key.collection == target.collection && Self.matches(object, namespace: target.namespace, selector: selector) {
                continuation.yield(Self.line(WatchEvent(type: .added, object: object)))
            }
        } else {
            for entry in history where entry.resourceVersion > since && entry.collection == target.collection
                && Self.matches(entry.object, namespace: target.namespace, selector: selector)
            {
                continuation.yield(Self.line(WatchEvent(type: entry.type, object: entry.object)))
            }
        }
        nextWatcherID += 1
        watchers[nextWatcherID] = Watcher(
            collection: target.collection, namespace: target.namespace, labelSelector: selector,
            bookmarks: recorded.query["allowWatchBookmarks"] == "true", continuation: continuation)
        let id = nextWatcherID
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            // onTermination is synchronous and the watcher list belongs to the actor: hop onto it.
            Task { await self.removeWatcher(id) }
        }
        return KubeStreamingResponse(status: 200, lines: stream)
    }

    private func removeWatcher(_ id: Int) { watchers.removeValue(forKey: id) }

    // MARK: Verbs

    private func get(_ target: Target) -> HTTPClientResponse {
        guard let object = objects[key(target)] else { return notFound(target) }
        return Self.json(200, object)
    }

    private func list(_ target: Target, query: [String: String]) -> HTTPClientResponse {
        let selector = query["labelSelector"]
        let fieldSelector = query["fieldSelector"]
        var snapshotVersion = resourceVersion
        var offset = 0
        let all: [JSONValue]
        let snapshotID: Int
        if let token = query["continue"], !token.isEmpty {
            let parts = token.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 3 else { return Self.status(400, Status.Reason.badRequest, "bad continue token") }
            guard parts[0] >= oldestVersion - 1, let snapshot = listSnapshots[parts[2]] else {
                return Self.status(410, Status.Reason.gone, "the provided continue parameter is too old")
            }
            snapshotVersion = parts[0]
            offset = parts[1]
            snapshotID = parts[2]
            all = snapshot
        } else {
            all = objects.filter {
                $0.key.collection == target.collection && Self.matches($0.value, namespace: target.namespace, selector: selector)
                    && Self.matchesFields($0.value, fieldSelector)
            }
            .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }.map(\.value)
            nextSnapshotID += 1
            snapshotID = nextSnapshotID
        }
        let limit = query["limit"].flatMap { Int($0) } ?? 0
        let end = limit > 0 ? min(all.count, offset + limit) : all.count
        let page = offset < all.count ? Array(all[offset..<end]) : []
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(snapshotVersion))]
        if end < all.count {
            metadata["continue"] = .string("\(snapshotVersion):\(end):\(snapshotID)")
            metadata["remainingItemCount"] = .number(Double(all.count - end))
            listSnapshots[snapshotID] = all
            // Lists abandoned half-way (a failed page) leave theirs behind: keep the newest few.
            if listSnapshots.count > 64, let oldest = listSnapshots.keys.min() { listSnapshots[oldest] = nil }
        } else {
            listSnapshots[snapshotID] = nil
        }
        return Self.json(200, ["kind": "List", "apiVersion": "v1", "metadata": .object(metadata), "items": .array(page)])
    }

    private func create(_ target: Target, body: Data) -> HTTPClientResponse {
        guard var object = try? KubernetesJSON.decoder.decode(JSONValue.self, from: body), var metadata = object["metadata"]?.objectValue else {
            return Self.status(400, Status.Reason.badRequest, "the body is not an object with metadata")
        }
        if metadata["name"]?.stringValue == nil, let prefix = metadata["generateName"]?.stringValue {
            nextUID += 1
            metadata["name"] = .string(prefix + String(nextUID, radix: 36))
        }
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else {
            return Self.status(422, Status.Reason.invalid, "metadata.name: Required value")
        }
        var target = target
        target.name = name
        if let namespace = target.namespace { metadata["namespace"] = .string(namespace) }
        guard objects[key(target)] == nil else {
            return Self.status(409, Status.Reason.alreadyExists, "\(target.collection.plural) \"\(name)\" already exists", name: name)
        }
        nextUID += 1
        metadata["uid"] = .string("uid-\(nextUID)")
        metadata["creationTimestamp"] = .string(RFC3339.format(clock.now()))
        metadata["generation"] = 1
        object = object.setting("metadata", .object(metadata))
        return store(object, target, type: .added, status: 201)
    }

    private func update(_ target: Target, body: Data) -> HTTPClientResponse {
        guard let existing = objects[key(target)] else { return notFound(target) }
        guard var object = try? KubernetesJSON.decoder.decode(JSONValue.self, from: body), var metadata = object["metadata"]?.objectValue else {
            return Self.status(400, Status.Reason.badRequest, "the body is not an object with metadata")
        }
        if let sent = metadata["resourceVersion"]?.stringValue, sent != existing["metadata"]?["resourceVersion"]?.stringValue {
            return conflict(target)
        }
        if target.subresource == "status" {
            var merged = existing.objectValue ?? [:]
            merged["status"] = object["status"]
            object = .object(merged)
        } else {
            for field in ["uid", "creationTimestamp", "namespace", "generation"] { metadata[field] = existing["metadata"]?[field] }
            object = object.setting("metadata", .object(metadata))
            object = bumpGeneration(object, from: existing)
        }
        return store(object, target, type: .modified, status: 200)
    }

    private func patch(_ target: Target, contentType: String?, body: Data) -> HTTPClientResponse {
        guard let existing = objects[key(target)] else { return notFound(target) }
        guard let patch = try? KubernetesJSON.decoder.decode(JSONValue.self, from: body) else {
            return Self.status(400, Status.Reason.badRequest, "the patch is not JSON")
        }
        var patched: JSONValue
        switch contentType {
        case "application/json-patch+json":
            guard let operations = try? patch.decode(as: [JSONPatchOperation].self) else {
                return Self.status(400, Status.Reason.badRequest, "not a JSON patch")
            }
            do {
                patched = try JSONPatchApplier.apply(operations, to: existing)
            } catch {
                return error.isTestFailure ? conflictOnTest(target, error) : Self.status(422, Status.Reason.invalid, error.description)
            }
        case "application/merge-patch+json", "application/strategic-merge-patch+json":
            patched = JSONPatchApplier.mergePatch(patch, onto: existing)
        default:
            return Self.status(415, Status.Reason.unsupportedMediaType, "unsupported patch type \(contentType ?? "none")")
        }
        if let sent = patch["metadata"]?["resourceVersion"]?.stringValue, sent != existing["metadata"]?["resourceVersion"]?.stringValue {
            return conflict(target)
        }
        if target.subresource == "status" {
            var merged = existing.objectValue ?? [:]
            merged["status"] = patched["status"]
            patched = .object(merged)
        } else {
            patched = bumpGeneration(patched, from: existing)
        }
        return store(patched, target, type: .modified, status: 200)
    }

    private func delete(_ target: Target, body: Data?) -> HTTPClientResponse {
        guard let existing = objects[key(target)] else { return notFound(target) }
        if let body, let options = try? KubernetesJSON.decoder.decode(JSONValue.self, from: body),
            let wanted = options["preconditions"]?["resourceVersion"]?.stringValue,
            wanted != existing["metadata"]?["resourceVersion"]?.stringValue
        {
            return conflict(target)
        }
        objects.removeValue(forKey: key(target))
        resourceVersion += 1
        var object = existing.objectValue ?? [:]
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = .string(String(resourceVersion))
        object["metadata"] = .object(metadata)
        publish(.deleted, target.collection, .object(object))
        return Self.json(200, .object(object))
    }

    // MARK: Storage and events

    private func store(_ object: JSONValue, _ target: Target, type: WatchEventType, status: Int) -> HTTPClientResponse {
        resourceVersion += 1
        var stored = object.objectValue ?? [:]
        var metadata = stored["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = .string(String(resourceVersion))
        stored["metadata"] = .object(metadata)
        let value = JSONValue.object(stored)
        objects[key(target)] = value
        publish(type, target.collection, value)
        return Self.json(status, value)
    }

    private func publish(_ type: WatchEventType, _ collection: Collection, _ object: JSONValue) {
        history.append(HistoryEntry(resourceVersion: resourceVersion, type: type, collection: collection, object: object))
        if history.count > historyLimit {
            let removed = history.count - historyLimit
            oldestVersion = history[removed].resourceVersion
            history.removeFirst(removed)
        }
        let line = Self.line(WatchEvent(type: type, object: object))
        for watcher in watchers.values
        where watcher.collection == collection && Self.matches(object, namespace: watcher.namespace, selector: watcher.labelSelector) {
            watcher.continuation.yield(line)
        }
    }

    private func bumpGeneration(_ object: JSONValue, from existing: JSONValue) -> JSONValue {
        guard object["spec"] != existing["spec"], var fields = object.objectValue, var metadata = fields["metadata"]?.objectValue else { return object }
        let generation = existing["metadata"]?["generation"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 1
        metadata["generation"] = .number(generation + 1)
        fields["metadata"] = .object(metadata)
        return .object(fields)
    }

    private func key(_ target: Target) -> StoreKey {
        StoreKey(collection: target.collection, namespace: target.namespace ?? "", name: target.name ?? "")
    }

    private func record(_ request: HTTPClientRequest) -> RecordedRequest {
        var query: [String: String] = [:]
        for item in request.query { query[item.name] = item.value }
        let recorded = RecordedRequest(
            method: request.method.rawValue, path: request.path, query: query, contentType: request.headers["Content-Type"], body: request.body)
        requests.append(recorded)
        return recorded
    }

    private func takeFailure(_ request: RecordedRequest) -> HTTPClientResponse? {
        if let persistentFailure, persistentFailure.matches(request) {
            return Self.status(persistentFailure.code, Self.reason(persistentFailure.code), "injected outage \(persistentFailure.code)")
        }
        guard let index = queuedFailures.firstIndex(where: { $0.matches(request) }) else { return nil }
        let failure = queuedFailures.remove(at: index)
        var response = Self.status(failure.code, Self.reason(failure.code), "injected failure \(failure.code)")
        if let seconds = failure.retryAfter { response.headers.add("Retry-After", String(seconds)) }
        return response
    }

    private func notFound(_ target: Target) -> HTTPClientResponse {
        Self.status(404, Status.Reason.notFound, "\(target.collection.plural) \"\(target.name ?? "")\" not found", name: target.name)
    }

    private func conflict(_ target: Target) -> HTTPClientResponse {
        Self.status(
            409, Status.Reason.conflict,
            "Operation cannot be fulfilled on \(target.collection.plural) \"\(target.name ?? "")\": the object has been modified; please apply your changes to the latest version and try again",
            name: target.name)
    }

    private func conflictOnTest(_ target: Target, _ error: JSONPatchError) -> HTTPClientResponse {
        Self.status(422, Status.Reason.invalid, "the JSON patch test failed: \(error.description)", name: target.name)
    }

    // MARK: Parsing and encoding

    private static func collection(_ resource: ResourceDescriptor) -> Collection {
        Collection(prefix: resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)", plural: resource.plural)
    }

    private static func parse(_ path: String) -> Target? {
        let segments = path.split(separator: "/").map(String.init)
        let prefixLength: Int
        if segments.first == "api", segments.count >= 2 {
            prefixLength = 2
        } else if segments.first == "apis", segments.count >= 3 {
            prefixLength = 3
        } else {
            return nil
        }
        let prefix = "/" + segments[0..<prefixLength].joined(separator: "/")
        let rest = Array(segments[prefixLength...])
        if rest.count >= 3, rest[0] == "namespaces" {
            return Target(
                collection: Collection(prefix: prefix, plural: rest[2]), namespace: rest[1], name: rest.count > 3 ? rest[3] : nil,
                subresource: rest.count > 4 ? rest[4] : nil)
        }
        guard let plural = rest.first else { return nil }
        return Target(
            collection: Collection(prefix: prefix, plural: plural), namespace: nil, name: rest.count > 1 ? rest[1] : nil,
            subresource: rest.count > 2 ? rest[2] : nil)
    }

    /// Equality-based selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`), which is what Karbonetes sends.
    static func matches(_ object: JSONValue, namespace: String?, selector: String?) -> Bool {
        if let namespace, object["metadata"]?["namespace"]?.stringValue != namespace { return false }
        guard let selector, !selector.isEmpty else { return true }
        let labels = object["metadata"]?["labels"]?.objectValue ?? [:]
        for requirement in selector.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let range = requirement.range(of: "!=") {
                let key = String(requirement[..<range.lowerBound]), value = String(requirement[range.upperBound...])
                if labels[key]?.stringValue == value { return false }
            } else if let range = requirement.range(of: "=") {
                let key = String(requirement[..<range.lowerBound])
                let value = String(requirement[range.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "="))
                if labels[key]?.stringValue != value { return false }
            } else if requirement.hasPrefix("!") {
                if labels[String(requirement.dropFirst())] != nil { return false }
            } else if labels[requirement] == nil {
                return false
            }
        }
        return true
    }

    private static func matchesFields(_ object: JSONValue, _ selector: String?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        for requirement in selector.split(separator: ",") {
            let negate = requirement.contains("!=")
            let parts = requirement.split(separator: negate ? "!=" : "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return false }
            var value: JSONValue? = object
            for token in parts[0].split(separator: ".") { value = value?[String(token)] }
            if (value?.stringValue == parts[1]) == negate { return false }
        }
        return true
    }

    static func line<T: Encodable>(_ value: T) -> Data {
        (try? KubernetesJSON.encoder.encode(value)) ?? Data()
    }

    private static func lines(_ items: [Data]) -> AsyncThrowingStream<Data, any Error> {
        AsyncThrowingStream { continuation in
            for item in items { continuation.yield(item) }
            continuation.finish()
        }
    }

    private static func json(_ code: Int, _ value: JSONValue) -> HTTPClientResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        return HTTPClientResponse(status: code, headers: headers, body: line(value))
    }

    static func status(_ code: Int, _ reason: String, _ message: String, name: String? = nil) -> HTTPClientResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        let status = Status(message: message, reason: reason, code: code, details: name.map { StatusDetails(name: $0) })
        return HTTPClientResponse(status: code, headers: headers, body: line(status))
    }

    private static func reason(_ code: Int) -> String {
        switch code {
        case 409: Status.Reason.conflict
        case 410: Status.Reason.gone
        case 429: Status.Reason.tooManyRequests
        case 503: Status.Reason.serviceUnavailable
        default: Status.Reason.internalError
        }
    }
}

/// What a broken watch connection looks like to the code under test.
public struct FakeConnectionReset: Error, CustomStringConvertible {
    public var description: String { "fake API server: connection reset" }
}

extension JSONValue {
    /// A copy of this object with `key` set (or removed when `value` is nil).
    fileprivate func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        var fields = objectValue ?? [:]
        fields[key] = value
        return .object(fields)
    }
}
