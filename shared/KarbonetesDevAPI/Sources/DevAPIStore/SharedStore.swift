public import Foundation
public import KarbonetesModels
import Synchronization

/// What a watch delivers besides changes: a bookmark carries only a resourceVersion, up to
/// which everything has been sent.
public enum WatchSignal: Sendable {
    case record(WatchRecord)
    case bookmark(resourceVersion: UInt64)
}

/// How a watch should behave beyond its selectors.
public struct WatchOptions: Sendable {
    public var list: ListOptions
    /// The stream ends after this long (`timeoutSeconds`).
    public var timeout: Duration?
    /// When set, a bookmark is sent this often (`allowWatchBookmarks=true`).
    public var bookmarkInterval: Duration?

    public init(list: ListOptions = ListOptions(), timeout: Duration? = nil, bookmarkInterval: Duration? = nil) {
        self.list = list
        self.timeout = timeout
        self.bookmarkInterval = bookmarkInterval
    }
}

/// The store shared by the HTTP handlers and the controllers: a ``DevAPIStore`` behind a
/// lock, with the open watches. Every commit is fanned out to the matching watches while the
/// lock is held, so a watch never misses or reorders a change, and a new watch's backlog and
/// its live changes meet without a gap.
///
/// A watch whose consumer falls more than its buffer behind is ended (as the real server
/// closes slow watchers) rather than buffering without bound; its client resumes from its
/// last resourceVersion.
public final class SharedStore: Sendable {
    private struct Watcher: Sendable {
        var storage: StorageKey
        var namespace: String?
        var options: WatchOptions
        var opened: ContinuousClock.Instant
        var nextBookmark: ContinuousClock.Instant?
        var deliver: @Sendable (WatchSignal) -> Bool
        var finish: @Sendable () -> Void
    }

    private struct State: Sendable {
        var store: DevAPIStore
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcherID: UInt64 = 1
        /// Bumped on every committed change, so the persister knows when to write.
        var changeCount: UInt64 = 0
    }

    private let state: Mutex<State>
    /// Watches whose consumer went away. `onTermination` runs while the stream holds its own
    /// lock, so it must not take `state` (a writer holds `state` while it yields into
    /// streams: the two would wait on each other). It only records the id here; writers and
    /// the ticker drop those watchers under `state`, never holding this lock while they yield.
    private let terminated = Mutex<Set<UInt64>>([])
    private let clock: @Sendable () -> Date
    /// How many events a watch may have queued before it is ended as too slow.
    public let watchBufferLimit: Int

    public init(store: DevAPIStore, watchBufferLimit: Int = 10_000, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.state = Mutex(State(store: store))
        self.clock = clock
        self.watchBufferLimit = watchBufferLimit
    }

    /// The wall clock the store stamps objects with (injected, so tests can fix it).
    public var now: Date { clock() }

    public func read<Result: Sendable, Failure: Error>(_ body: (DevAPIStore) throws(Failure) -> Result) throws(Failure) -> Result {
        try state.withLock { state throws(Failure) in try body(state.store) }
    }

    /// Runs a change and fans out what it committed. The body works on the store in place
    /// (a copy would make every write O(objects)); one that throws commits nothing, since
    /// ``DevAPIStore/transaction(_:)`` undoes its changes.
    @discardableResult
    public func write<Result: Sendable, Failure: Error>(_ body: (inout DevAPIStore, Date) throws(Failure) -> Result) throws(Failure) -> Result {
        let now = clock()
        let gone = takeTerminated()
        let (result, slow) = try state.withLock { state throws(Failure) -> (Result, [@Sendable () -> Void]) in
            for id in gone { state.watchers.removeValue(forKey: id) }
            let before = state.store.resourceVersion
            let result = try state.store.transaction { store throws(Failure) in try body(&store, now) }
            guard state.store.resourceVersion != before else { return (result, []) }
            state.changeCount += 1
            let committed = state.store.records(after: before)
            return (result, Self.fanOut(committed, in: &state))
        }
        for finish in slow { finish() }
        return result
    }

    /// Opens a watch: the backlog (initial ADDED events or the history after `since`) is
    /// queued first, then every matching change, each passed through `transform`.
    public func watch<Element: Sendable>(
        _ type: ResourceType, namespace: String?, since: UInt64?, options: WatchOptions = WatchOptions(),
        transform: @escaping @Sendable (WatchSignal) -> Element?
    ) throws(StoreError) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let id = try state.withLock { state throws(StoreError) -> UInt64 in
            let backlog = try state.store.watchBacklog(type, namespace: namespace, since: since)
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            let opened = ContinuousClock.now
            let watcher = Watcher(
                storage: type.storageKey, namespace: type.namespaced ? namespace : nil, options: options, opened: opened,
                nextBookmark: options.bookmarkInterval.map { opened + $0 },
                deliver: { signal in
                    guard let element = transform(signal) else { return true }
                    if case .enqueued = continuation.yield(element) { return true }
                    return false
                },
                finish: { continuation.finish() })
            for record in backlog {
                if let seen = record.filtered(by: options.list) { _ = watcher.deliver(.record(seen)) }
            }
            state.watchers[id] = watcher
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.removeWatcher(id) }
        return stream
    }

    /// Sends due bookmarks and ends watches past their timeout; ends every watch of
    /// `dropOlderThan`'s resources opened longer ago than its duration (fault injection).
    /// Called by a ticker a few times a second.
    public func tick(dropOlderThan: [StorageKey: Duration] = [:]) {
        let now = ContinuousClock.now
        let gone = takeTerminated()
        let finished = state.withLock { state -> [@Sendable () -> Void] in
            for id in gone { state.watchers.removeValue(forKey: id) }
            var finished: [@Sendable () -> Void] = []
            let version = state.store.resourceVersion
            for (id, var watcher) in state.watchers {
                let timedOut = watcher.options.timeout.map { watcher.opened + $0 <= now } ?? false
                let dropped = dropOlderThan[watcher.storage].map { watcher.opened + $0 <= now } ?? false
                if timedOut || dropped {
                    finished.append(watcher.finish)
                    state.watchers.removeValue(forKey: id)
                    continue
                }
                if let due = watcher.nextBookmark, due <= now, let interval = watcher.options.bookmarkInterval {
                    if !watcher.deliver(.bookmark(resourceVersion: version)) {
                        finished.append(watcher.finish)
                        state.watchers.removeValue(forKey: id)
                        continue
                    }
                    watcher.nextBookmark = now + interval
                    state.watchers[id] = watcher
                }
            }
            return finished
        }
        for finish in finished { finish() }
    }

    /// Ends every open watch of a resource (or all), as a server restart or a load balancer
    /// would: fault injection for clients' resume path.
    public func dropWatches(of storage: StorageKey? = nil) {
        let finished = state.withLock { state -> [@Sendable () -> Void] in
            let matching = state.watchers.filter { storage == nil || $0.value.storage == storage }
            for id in matching.keys { state.watchers.removeValue(forKey: id) }
            return matching.values.map(\.finish)
        }
        for finish in finished { finish() }
    }

    public var openWatchCount: Int {
        let gone = takeTerminated()
        return state.withLock { state in
            for id in gone { state.watchers.removeValue(forKey: id) }
            return state.watchers.count
        }
    }

    /// How many changes have been committed since start: the persister writes when it moves.
    public var changeCount: UInt64 { state.withLock { $0.changeCount } }

    /// A consistent copy to persist, with the change count it reflects.
    public func snapshot() -> (DevAPIStore.Snapshot, changeCount: UInt64) {
        state.withLock { ($0.store.snapshot, $0.changeCount) }
    }

    private func removeWatcher(_ id: UInt64) {
        _ = terminated.withLock { $0.insert(id) }
    }

    private func takeTerminated() -> Set<UInt64> {
        terminated.withLock { ids in
            defer { ids.removeAll() }
            return ids
        }
    }

    private static func fanOut(_ records: [WatchRecord], in state: inout State) -> [@Sendable () -> Void] {
        var slow: [@Sendable () -> Void] = []
        var records = records
        for index in records.indices { records[index].encodedOnce = EncodedWatchEvent() }
        for (id, watcher) in state.watchers {
            for record in records where record.storage == watcher.storage {
                guard watcher.namespace == nil || watcher.namespace == record.name.namespace else { continue }
                guard let seen = record.filtered(by: watcher.options.list) else { continue }
                if !watcher.deliver(.record(seen)) {
                    slow.append(watcher.finish)
                    state.watchers.removeValue(forKey: id)
                    break
                }
            }
        }
        return slow
    }
}

/// Runs a new object through the server's mutating admission webhooks, as a create through
/// the API would; throws when a webhook with `failurePolicy: Fail` refuses or fails.
public typealias CreateAdmission = @Sendable (_ object: JSONValue, _ namespace: String) async throws -> JSONValue
