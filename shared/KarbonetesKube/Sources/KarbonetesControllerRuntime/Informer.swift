import Foundation
public import KarbonetesKubeClient
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesModels
import Synchronization

/// What changed in an informer's cache. Handlers should only enqueue keys: reconcilers read the
/// cache, never the event (reconcile by level).
public enum InformerEvent<Object: KubernetesObject>: Sendable {
    case added(Object)
    case updated(old: Object, new: Object)
    /// The last state the informer knew (after a re-list, the object may be long gone).
    case deleted(Object)

    /// The object as it is now (or was, for a delete).
    public var object: Object {
        switch self {
        case .added(let object), .deleted(let object), .updated(_, let object): object
        }
    }
}

/// Keeps a cache of one resource in step with the API server, client-go's reflector and
/// shared informer in one: list (in pages), then watch from the list's `resourceVersion`; when a
/// watch ends or breaks, watch again from the last version seen (bookmarks included); on
/// `410 Gone` re-list and reconcile the cache, delivering deletes for objects that vanished
/// meanwhile; back off on errors.
public final class Informer<Object: KubernetesObject>: Service, Sendable {
    public let client: KubeClient
    public let resource: ResourceDescriptor
    /// Nil for all namespaces.
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    /// Which objects the cache holds, on top of the server-side selectors: a client-side
    /// selector for what the API cannot select on (an annotation's value). An object it turns
    /// away is not cached; one that stops matching leaves the cache and is delivered as
    /// deleted, as a watch delivers an object leaving its label selector. The controller keeps
    /// only held Jobs this way, so that its memory follows the Jobs it holds, not every Job it
    /// ever released that the cluster still has.
    public let keep: (@Sendable (Object) -> Bool)?
    public let cache: ObjectCache<Object>
    /// List page size.
    public let pageSize: Int
    /// Watches are asked to end after a random time between this and twice this, so that
    /// replicas do not all re-watch at once.
    public let watchTimeout: Duration
    private let initialBackoff: Backoff
    private let clock: any KubeClock
    private let logger: Logger

    private struct State {
        var handlers: [@Sendable (InformerEvent<Object>) async -> Void] = []
        var synced = false
        var syncWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var cancelledWaiters: Set<Int> = []
        var nextWaiterID = 0
        var lastResourceVersion: String?
        var lists = 0
        var watches = 0
    }

    private let state = Mutex(State())

    public init(
        client: KubeClient,
        resource: ResourceDescriptor,
        namespace: String? = nil,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        keep: (@Sendable (Object) -> Bool)? = nil,
        indexers: [String: ObjectCache<Object>.IndexFunction] = [:],
        pageSize: Int = 500,
        watchTimeout: Duration = .seconds(300),
        backoff: Backoff = Backoff(),
        clock: any KubeClock = WallClock(),
        logger: Logger = .disabled
    ) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.keep = keep
        self.cache = ObjectCache(indexers: indexers)
        self.pageSize = pageSize
        self.watchTimeout = watchTimeout
        self.initialBackoff = backoff
        self.clock = clock
        self.logger = logger.with(["informer.resource": resource.description])
    }

    /// Called for every change, in order, from the informer's own task: keep it short (enqueue a
    /// key). Register handlers before ``run()``.
    public func addHandler(_ handler: @escaping @Sendable (InformerEvent<Object>) async -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Feeds every change's key into a work queue.
    public func enqueue(into queue: WorkQueue<ObjectKey>) {
        addHandler { event in await queue.add(event.object.key) }
    }

    /// Feeds the key of each added or updated object that `predicate` accepts into a work
    /// queue (controller-runtime's predicates): a filter on the object's state, so that
    /// changes a reconcile has nothing to do about (its own writes among them) do not occupy a
    /// worker. Deletes are not enqueued: a reconcile of a key that is gone does nothing.
    public func enqueue(into queue: WorkQueue<ObjectKey>, where predicate: @escaping @Sendable (Object) -> Bool) {
        addHandler { event in
            switch event {
            case .added(let object), .updated(_, let object):
                if predicate(object) { await queue.add(object.key) }
            case .deleted:
                break
            }
        }
    }

    /// True once the first list is in the cache.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The version the next watch would start from.
    public var lastResourceVersion: String? { state.withLock { $0.lastResourceVersion } }

    /// How many lists and watches were made (for tests and logs: a dropped watch must not
    /// cost a re-list).
    public var requestCounts: (lists: Int, watches: Int) { state.withLock { ($0.lists, $0.watches) } }

    /// Returns once the first list is in the cache; throws `CancellationError` when cancelled.
    public func waitForSync() async throws {
        let id = state.withLock { state -> Int? in
            if state.synced { return nil }
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.synced { return .success(()) }
                    if state.cancelledWaiters.remove(id) != nil { return .failure(CancellationError()) }
                    state.syncWaiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                let waiting = state.syncWaiters.removeValue(forKey: id)
                if waiting == nil { state.cancelledWaiters.insert(id) }
                return waiting
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Lists and watches until cancelled; errors are logged and retried with backoff, never
    /// thrown, since an API server outage must not stop the process.
    public func run() async throws {
        var backoff = initialBackoff
        var needsList = true
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if needsList {
                    resourceVersion = try await listAndReconcile()
                    needsList = false
                    backoff.reset()
                }
                let outcome = try await watchOnce(from: resourceVersion ?? "", backoff: &backoff)
                resourceVersion = outcome.resourceVersion
                if outcome.gone {
                    logger.info("watch expired (410 Gone): re-listing", metadata: ["watch.resourceVersion": resourceVersion ?? ""])
                    needsList = true
                }
            } catch let error as KubeAPIError where error.isGone {
                logger.info("resource version expired (410 Gone): re-listing", metadata: ["error": error.description])
                needsList = true
            } catch {
                if Task.isCancelled || error is CancellationError { break }
                let delay = backoff.next()
                logger.warning(
                    needsList ? "list failed: retrying" : "watch failed: resuming",
                    metadata: ["error": String(describing: error), "retry.after": "\(delay)"])
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    break
                }
            }
        }
    }

    // MARK: Internals

    private func listAndReconcile() async throws -> String {
        state.withLock { $0.lists += 1 }
        let list = try await client.listAll(
            Object.self, resource, namespace: namespace,
            options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize))
        let version = list.metadata.resourceVersion ?? ""
        var present = Set<ObjectKey>()
        var events: [InformerEvent<Object>] = []
        for object in list.items {
            // One the cache does not keep counts as absent: if it was cached, it is deleted below.
            if let keep, !keep(object) { continue }
            present.insert(object.key)
            if let old = cache.upsert(object) {
                if old.metadata.resourceVersion != object.metadata.resourceVersion {
                    events.append(.updated(old: old, new: object))
                }
            } else {
                events.append(.added(object))
            }
        }
        for key in cache.keys() where !present.contains(key) {
            if let old = cache.remove(key) { events.append(.deleted(old)) }
        }
        let handlers = state.withLock { state in
            state.lastResourceVersion = version
            return state.handlers
        }
        for event in events {
            for handler in handlers { await handler(event) }
        }
        markSynced()
        logger.debug("listed", metadata: ["list.items": String(list.items.count), "list.resourceVersion": version])
        return version
    }

    private struct WatchOutcome {
        var resourceVersion: String
        var gone: Bool
    }

    private func watchOnce(from resourceVersion: String, backoff: inout Backoff) async throws -> WatchOutcome {
        state.withLock { $0.watches += 1 }
        let base = Int(watchTimeout.timeInterval.rounded())
        let timeout = base > 0 ? Int.random(in: base...(2 * base)) : nil
        let watch = try await client.watch(
            Object.self, resource, namespace: namespace,
            options: WatchOptions(
                labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion, allowWatchBookmarks: true,
                timeoutSeconds: timeout))
        let handlers = state.withLock { $0.handlers }
        var version = resourceVersion
        for try await event in watch {
            backoff.reset()
            let event = try handle(event)
            switch event {
            case .gone:
                return WatchOutcome(resourceVersion: version, gone: true)
            case .version(let next, let delivered):
                version = next
                state.withLock { $0.lastResourceVersion = next }
                if let delivered {
                    for handler in handlers { await handler(delivered) }
                }
            }
        }
        return WatchOutcome(resourceVersion: version, gone: false)
    }

    private enum Handled {
        case gone
        case version(String, InformerEvent<Object>?)
    }

    private func handle(_ event: WatchEvent<Object>) throws -> Handled {
        switch event.payload {
        case .status(let status):
            let error = KubeAPIError.watchError(status, object: resource.description)
            if error.isGone { return .gone }
            throw error
        case .object(let object):
            let version = object.metadata.resourceVersion ?? ""
            switch event.type {
            case .added, .modified:
                if let keep, !keep(object) {
                    return .version(version, cache.remove(object.key).map { .deleted($0) })
                }
                if let old = cache.upsert(object) {
                    return .version(version, .updated(old: old, new: object))
                }
                return .version(version, .added(object))
            case .deleted:
                let cached = cache.remove(object.key)
                // An object the cache never kept was never seen by the handlers either.
                if keep != nil, cached == nil { return .version(version, nil) }
                return .version(version, .deleted(object))
            case .bookmark:
                return .version(version, nil)
            case .error:
                throw KubeAPIError.watchError(Status(message: "ERROR event without a Status", code: 500), object: resource.description)
            }
        }
    }

    private func markSynced() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard !state.synced else { return [] }
            state.synced = true
            defer { state.syncWaiters.removeAll() }
            return Array(state.syncWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension Informer where Object: KubernetesResource {
    /// An informer for a model type that knows its resource.
    public convenience init(
        _ type: Object.Type,
        client: KubeClient,
        namespace: String? = nil,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        keep: (@Sendable (Object) -> Bool)? = nil,
        indexers: [String: ObjectCache<Object>.IndexFunction] = [:],
        backoff: Backoff = Backoff(),
        clock: any KubeClock = WallClock(),
        logger: Logger = .disabled
    ) {
        self.init(
            client: client, resource: Object.resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
            keep: keep, indexers: indexers, backoff: backoff, clock: clock, logger: logger)
    }
}
