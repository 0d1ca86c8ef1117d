public import KarbonetesModels
import KarbonetesLocks

/// An informer's in-memory copy of a resource, keyed by `namespace/name`, with secondary
/// indexes (by namespace, by policy name, …) so that reconcilers read without calling the API
/// server. Reads are safe from any task and share a reader-writer lock: the webhook reads its
/// policy cache on every admission from fifty connection threads, and behind a `Mutex` those
/// readers contended with each other. Only the informer writes.
public final class ObjectCache<Object: KubernetesObject>: Sendable {
    /// Maps an object to the index values it is found under.
    public typealias IndexFunction = @Sendable (Object) -> [String]

    /// The index every cache has: objects by namespace.
    public static var namespaceIndex: String { "namespace" }

    private struct State {
        var objects: [ObjectKey: Object] = [:]
        var indices: [String: [String: Set<ObjectKey>]] = [:]
    }

    private let state = ReadWriteLock(State())
    private let indexers: [String: IndexFunction]

    public init(indexers: [String: IndexFunction] = [:]) {
        var all = indexers
        all[Self.namespaceIndex] = { [$0.metadata.namespace ?? ""] }
        self.indexers = all
    }

    public func get(_ key: ObjectKey) -> Object? { state.read { $0.objects[key] } }

    /// Every object, sorted by key so that callers iterate deterministically.
    public func list() -> [Object] {
        state.read { state in state.objects.sorted { $0.key < $1.key }.map(\.value) }
    }

    public func keys() -> [ObjectKey] { state.read { $0.objects.keys.sorted() } }

    public var count: Int { state.read { $0.objects.count } }

    /// The objects whose index function returned `value` for the index `name`, in no
    /// particular order. Unsorted because indices are read on hot paths (the controller reads
    /// its held-Jobs index every poll): sorting 10,000 keys under the lock was three quarters
    /// of that scan's cost (perf, bench-controller). Callers that need an order sort the result.
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        state.read { state in (state.indices[name]?[value] ?? []).compactMap { state.objects[$0] } }
    }

    /// Stores the object and returns what it replaced.
    @discardableResult
    func upsert(_ object: Object) -> Object? {
        let key = object.key
        return state.write { state in
            let old = state.objects[key]
            if let old { unindex(old, key, &state) }
            state.objects[key] = object
            index(object, key, &state)
            return old
        }
    }

    @discardableResult
    func remove(_ key: ObjectKey) -> Object? {
        state.write { state in
            guard let old = state.objects.removeValue(forKey: key) else { return nil }
            unindex(old, key, &state)
            return old
        }
    }

    private func index(_ object: Object, _ key: ObjectKey, _ state: inout State) {
        for (name, function) in indexers {
            for value in function(object) { state.indices[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: Object, _ key: ObjectKey, _ state: inout State) {
        for (name, function) in indexers {
            for value in function(object) {
                state.indices[name]?[value]?.remove(key)
                if state.indices[name]?[value]?.isEmpty == true { state.indices[name]?[value] = nil }
            }
        }
    }
}
