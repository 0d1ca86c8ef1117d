public import Foundation
public import KarbonetesModels
import Synchronization

/// Where one object lives inside its resource: cluster-scoped objects have an empty namespace.
public struct ObjectName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace ?? ""
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (lhs: ObjectName, rhs: ObjectName) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// One change, as a watch delivers it; the history ring keeps these for watches that resume.
public struct WatchRecord: Sendable {
    public var resourceVersion: UInt64
    public var type: WatchEventType
    public var storage: StorageKey
    public var name: ObjectName
    public var object: JSONValue
    /// The object before a MODIFIED change, so that a watch with a selector can tell an
    /// object entering it (sent as ADDED) or leaving it (sent as DELETED), as the real
    /// server's watch cache does.
    public var previous: JSONValue?
    /// Set only while the change is fanned out to the open watches: the encoded event, made by
    /// the first watch that sends it and reused by the others (as the real server's watch
    /// cache serializes an event once for all its watchers). Not kept in the history ring.
    public var encodedOnce: EncodedWatchEvent?

    public init(resourceVersion: UInt64, type: WatchEventType, storage: StorageKey, name: ObjectName, object: JSONValue, previous: JSONValue? = nil) {
        self.resourceVersion = resourceVersion
        self.type = type
        self.storage = storage
        self.name = name
        self.object = object
        self.previous = previous
    }

    /// This change as a watch filtered by `options` sees it; nil when it does not see it.
    public func filtered(by options: ListOptions) -> WatchRecord? {
        let matchesNow = options.matches(object)
        guard type == .modified, let previous else { return matchesNow ? self : nil }
        let matchedBefore = options.matches(previous)
        var seen = self
        switch (matchedBefore, matchesNow) {
        case (true, true): return self
        case (false, true): seen.type = .added
        case (true, false): seen.type = .deleted
        case (false, false): return nil
        }
        // Another event type is another event: it does not share the original's encoding.
        seen.encodedOnce = seen.encodedOnce.map { _ in EncodedWatchEvent() }
        return seen
    }
}

/// One watch event's bytes, encoded at most once however many watches send it.
public final class EncodedWatchEvent: Sendable {
    private let bytes = Mutex<Data?>(nil)

    public init() {}

    /// The bytes `encode` makes, calling it only the first time.
    public func value(_ encode: () -> Data) -> Data {
        bytes.withLock { bytes in
            if let bytes { return bytes }
            let made = encode()
            bytes = made
            return made
        }
    }
}

/// What narrows a list or a watch.
public struct ListOptions: Sendable {
    public var labelSelector: LabelSelector
    public var fieldSelector: FieldSelector
    public var limit: Int?
    public var continueToken: String?

    public init(
        labelSelector: LabelSelector = .everything, fieldSelector: FieldSelector = .everything, limit: Int? = nil,
        continueToken: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
    }

    public func matches(_ object: JSONValue) -> Bool {
        labelSelector.matches(object.labels) && fieldSelector.matches(object)
    }
}

public struct ListResult: Sendable {
    public var items: [JSONValue]
    public var resourceVersion: String
    public var continueToken: String?
    public var remainingItemCount: Int?
}

/// The patch formats the server accepts, by their `Content-Type`.
public enum PatchFormat: Sendable, Hashable {
    case json
    case merge
    case strategicMerge

    /// Reads the request's content type; nil for a format the server does not speak
    /// (server-side apply), which is answered 415.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        switch mediaType {
        case "application/json-patch+json": self = .json
        case "application/merge-patch+json": self = .merge
        case "application/strategic-merge-patch+json": self = .strategicMerge
        default: return nil
        }
    }
}

/// Preconditions a DELETE may carry (`DeleteOptions.preconditions`) and how dependents go.
public struct DeleteOptions: Sendable {
    public var uid: String?
    public var resourceVersion: String?
    /// `Orphan`, `Background` or `Foreground` (treated as `Background`); nil is the resource's default.
    public var propagationPolicy: String?

    public init(uid: String? = nil, resourceVersion: String? = nil, propagationPolicy: String? = nil) {
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.propagationPolicy = propagationPolicy
    }
}

/// The API server's state: every object as raw JSON (so no field a client sends is lost), the
/// global resourceVersion counter and the watch history.
///
/// A value type with no I/O, no clock and no locks: each operation is a function of the
/// state and its arguments (`now` is passed in), which is what makes the API semantics
/// testable with tables. ``SharedStore`` wraps it for concurrent use and fans out watches.
public struct DevAPIStore: Sendable {
    public private(set) var resourceVersion: UInt64 = 1
    /// Watches may resume from any resourceVersion at or after this; older ones get 410.
    public private(set) var compactedThrough: UInt64 = 1
    public var historyCapacity: Int
    private var objects: [StorageKey: [ObjectName: JSONValue]] = [:]
    private var history: [WatchRecord] = []
    private var customTypes: [ResourceType] = []
    /// What the open ``transaction(_:)`` changed, oldest first; nil outside one.
    private var undoLog: UndoLog?

    /// A store with the namespaces every cluster has.
    public init(historyCapacity: Int = 2_000, now: Date) {
        self.historyCapacity = max(1, historyCapacity)
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]], type: .namespaces, namespace: nil, now: now)
        }
        compactedThrough = resourceVersion
        history.removeAll()
    }

    // MARK: Types

    /// Every resource served: the built-in ones and those of established CRDs.
    public var types: [ResourceType] { ResourceType.builtIn + customTypes }

    public func type(group: String, version: String, resource: String) -> ResourceType? {
        types.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    // MARK: Transactions

    /// Runs `body` on this store in place; when it throws, every change it made is undone
    /// (objects, resourceVersion, watch history, compaction point, served types) and the
    /// error is rethrown, so a failed write commits nothing.
    ///
    /// Why in place and not on a copy: the store is a value, and mutating a copy while the
    /// original is still held copies every object dictionary it touches, so each write cost
    /// O(objects) (the raw patch rate fell to 60-280/s at 10-20k Jobs). The undo log keeps the
    /// all-or-nothing semantics at O(what the body changed). A nested call joins the outer
    /// transaction (the outer one undoes).
    public mutating func transaction<Result, Failure: Error>(_ body: (inout DevAPIStore) throws(Failure) -> Result) throws(Failure) -> Result {
        guard undoLog == nil else { return try body(&self) }
        undoLog = UndoLog(resourceVersion: resourceVersion, compactedThrough: compactedThrough, customTypes: customTypes)
        do {
            let result = try body(&self)
            undoLog = nil
            return result
        } catch {
            rollBack()
            throw error
        }
    }

    // MARK: Reads

    public func get(_ type: ResourceType, namespace: String?, name: String) throws(StoreError) -> JSONValue {
        guard let object = objects[type.storageKey]?[ObjectName(namespace: type.namespaced ? namespace : nil, name: name)] else {
            throw .notFound(type, name: name)
        }
        return object
    }

    /// All objects of a resource, optionally in one namespace, ordered by namespace and name;
    /// `limit`/`continue` page through them. A continue token older than the compacted
    /// history is 410 Expired, as the real server answers; a page is read from the current
    /// state (the real server reads a snapshot at the token's resourceVersion).
    public func list(_ type: ResourceType, namespace: String?, options: ListOptions = ListOptions()) throws(StoreError) -> ListResult {
        var listVersion = resourceVersion
        var after: ObjectName?
        if let token = options.continueToken, !token.isEmpty {
            guard let decoded = ContinueToken(encoded: token) else { throw .badRequest("invalid continue token \"\(token)\"") }
            guard decoded.resourceVersion >= compactedThrough else {
                throw .gone(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            listVersion = decoded.resourceVersion
            after = ObjectName(namespace: decoded.namespace, name: decoded.name)
        }
        let scope = type.namespaced ? namespace : nil
        var matching = (objects[type.storageKey] ?? [:])
            .filter { key, object in
                (scope == nil || key.namespace == scope) && (after.map { key > $0 } ?? true) && options.matches(object)
            }
            .sorted { $0.key < $1.key }
        var continueToken: String?
        var remaining: Int?
        if let limit = options.limit, limit > 0, matching.count > limit {
            remaining = matching.count - limit
            matching = Array(matching.prefix(limit))
            if let last = matching.last?.key {
                continueToken = ContinueToken(resourceVersion: listVersion, namespace: last.namespace, name: last.name).encoded
            }
        }
        return ListResult(
            items: matching.map { versioned($0.value, as: type) }, resourceVersion: String(listVersion),
            continueToken: continueToken, remainingItemCount: remaining)
    }

    /// What a new watch starts with: ADDED for every current object when `since` is nil or 0
    /// (the real server's "start at most recent" with its initial events), else every
    /// change after `since` still in the history, or 410 once that has been compacted.
    public func watchBacklog(_ type: ResourceType, namespace: String?, since: UInt64?) throws(StoreError) -> [WatchRecord] {
        let scope = type.namespaced ? namespace : nil
        guard let since, since > 0 else {
            return (objects[type.storageKey] ?? [:])
                .filter { scope == nil || $0.key.namespace == scope }
                .sorted { $0.key < $1.key }
                .map { WatchRecord(resourceVersion: resourceVersion, type: .added, storage: type.storageKey, name: $0.key, object: $0.value) }
        }
        guard since >= compactedThrough else {
            throw .gone("too old resource version: \(since) (\(compactedThrough))")
        }
        return history.filter {
            $0.resourceVersion > since && $0.storage == type.storageKey && (scope == nil || $0.name.namespace == scope)
        }
    }

    /// The changes committed after `resourceVersion`, oldest first, for fanning out.
    public func records(after resourceVersion: UInt64) -> [WatchRecord] {
        var result: [WatchRecord] = []
        for record in history.reversed() {
            if record.resourceVersion <= resourceVersion { break }
            result.append(record)
        }
        return result.reversed()
    }

    // MARK: Writes

    /// Creates an object: name (or generateName), namespace, uid, creationTimestamp,
    /// generation 1 and a new resourceVersion, with the resource's defaults and validation.
    @discardableResult
    public mutating func create(_ body: JSONValue, type: ResourceType, namespace: String?, now: Date) throws(StoreError) -> JSONValue {
        guard case .object = body else { throw .badRequest("the body of a create must be a JSON object") }
        var object = body
        try checkTypeMeta(object, type: type)
        object.setValue(.string(type.apiVersion), at: ["apiVersion"])
        object.setValue(.string(type.kind), at: ["kind"])
        let requestedNamespace = object.string(at: ["metadata", "namespace"])
        if type.namespaced {
            guard let namespace, !namespace.isEmpty else { throw .badRequest("a namespace is required to create \(type)") }
            if let requestedNamespace, !requestedNamespace.isEmpty, requestedNamespace != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.setValue(.string(namespace), at: ["metadata", "namespace"])
            if objects[ResourceType.namespaces.storageKey]?[ObjectName(namespace: nil, name: namespace)] == nil {
                throw .notFound(.namespaces, name: namespace)
            }
        } else {
            object.setValue(nil, at: ["metadata", "namespace"])
        }
        var name = object.string(at: ["metadata", "name"]) ?? ""
        if name.isEmpty, let prefix = object.string(at: ["metadata", "generateName"]), !prefix.isEmpty {
            name = prefix + Self.randomSuffix()
            object.setValue(.string(name), at: ["metadata", "name"])
        }
        guard !name.isEmpty else {
            throw .invalid(type, name: name, field: "metadata.name", message: "Required value: name or generateName is required")
        }
        guard ResourceRules.isValidName(name) else {
            throw .invalid(
                type, name: name, field: "metadata.name",
                message: "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'")
        }
        let key = ObjectName(namespace: type.namespaced ? namespace : nil, name: name)
        guard objects[type.storageKey]?[key] == nil else { throw .alreadyExists(type, name: name) }
        let uid = UUID().uuidString.lowercased()
        if type.hasStatusSubresource { object.setValue(nil, at: ["status"]) }
        switch type.storageKey {
        case ResourceType.jobs.storageKey: try ResourceRules.prepareJobCreate(&object, uid: uid, name: name)
        case ResourceType.cronJobs.storageKey: try ResourceRules.prepareCronJobCreate(&object, name: name)
        case ResourceType.namespaces.storageKey:
            object.setValue(["phase": "Active"], at: ["status"])
            object.setValue(.string(name), at: ["metadata", "labels", "kubernetes.io/metadata.name"])
        case ResourceType.customResourceDefinitions.storageKey:
            try ResourceRules.validateDefinition(object, name: name)
            object.setValue(ResourceRules.definitionStatus(object, now: now), at: ["status"])
        default: break
        }
        object.setValue(.string(uid), at: ["metadata", "uid"])
        object.setValue(.string(RFC3339.format(now)), at: ["metadata", "creationTimestamp"])
        object.setValue(1, at: ["metadata", "generation"])
        object.setValue(nil, at: ["metadata", "deletionTimestamp"])
        resourceVersion += 1
        object.setValue(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        setObject(object, storage: type.storageKey, key: key)
        record(.added, type: type, name: key, object: object)
        if type.storageKey == ResourceType.customResourceDefinitions.storageKey { refreshCustomTypes() }
        return versioned(object, as: type)
    }

    /// Replaces an object (PUT). A non-empty `metadata.resourceVersion` that is not the
    /// current one is 409 Conflict; an update that changes nothing writes nothing.
    @discardableResult
    public mutating func update(
        _ body: JSONValue, type: ResourceType, namespace: String?, name: String, statusOnly: Bool = false, now: Date
    ) throws(StoreError) -> JSONValue {
        guard case .object = body else { throw .badRequest("the body of an update must be a JSON object") }
        try checkTypeMeta(body, type: type)
        if let bodyName = body.string(at: ["metadata", "name"]), bodyName != name {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let old = try get(type, namespace: namespace, name: name)
        try checkResourceVersion(body, against: old, type: type, name: name)
        return try commitUpdate(old: old, incoming: body, type: type, namespace: namespace, name: name, statusOnly: statusOnly, now: now)
    }

    /// Applies a patch to the current object, then stores the result as an update would
    /// (so the same conflict, immutability and status rules apply). A failed JSON Patch
    /// `test` op is 422 Invalid, as the real server answers.
    @discardableResult
    public mutating func patch(
        _ patch: Data, format: PatchFormat, type: ResourceType, namespace: String?, name: String, statusOnly: Bool = false,
        now: Date
    ) throws(StoreError) -> JSONValue {
        let old = try get(type, namespace: namespace, name: name)
        let patched: JSONValue
        do {
            switch format {
            case .json:
                let operations = try KubernetesJSON.decoder.decode([JSONPatchOperation].self, from: patch)
                do {
                    patched = try JSONPatchApplier.apply(operations, to: old)
                } catch {
                    if error.isTestFailure {
                        throw StoreError.invalid(type, name: name, field: "patch", message: "Invalid value: \(error.description)")
                    }
                    throw StoreError.invalid(type, name: name, field: "patch", message: "Invalid value: \(error.description)")
                }
            case .merge:
                patched = JSONPatchApplier.mergePatch(try KubernetesJSON.decoder.decode(JSONValue.self, from: patch), onto: old)
            case .strategicMerge:
                patched = StrategicMerge.apply(try KubernetesJSON.decoder.decode(JSONValue.self, from: patch), to: old)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .badRequest("the patch for \(type) \"\(name)\" is not valid JSON: \(error)", name: name)
        }
        if let bodyName = patched.string(at: ["metadata", "name"]), bodyName != name {
            throw .invalid(type, name: name, field: "metadata.name", message: "Invalid value: \"\(bodyName)\": field is immutable")
        }
        try checkResourceVersion(patched, against: old, type: type, name: name)
        return try commitUpdate(old: old, incoming: patched, type: type, namespace: namespace, name: name, statusOnly: statusOnly, now: now)
    }

    /// Deletes an object, or marks it (`deletionTimestamp`) while finalizers remain; deletes
    /// what it owns unless orphaned (Jobs and CronJobs orphan by default, as their REST
    /// endpoints do), what a namespace holds, and a CRD's objects.
    @discardableResult
    public mutating func delete(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions = DeleteOptions(), now: Date)
        throws(StoreError) -> JSONValue
    {
        let old = try get(type, namespace: namespace, name: name)
        if let uid = options.uid, uid != old.string(at: ["metadata", "uid"]) {
            throw .conflict(
                type, name: name,
                reason: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.string(at: ["metadata", "uid"]) ?? "")")
        }
        if let version = options.resourceVersion, version != old.string(at: ["metadata", "resourceVersion"]) {
            throw .conflict(
                type, name: name,
                reason: "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(old.string(at: ["metadata", "resourceVersion"]) ?? "")")
        }
        let key = ObjectName(namespace: type.namespaced ? namespace : nil, name: name)
        if !(old.value(at: ["metadata", "finalizers"])?.arrayValue ?? []).isEmpty {
            guard old.value(at: ["metadata", "deletionTimestamp"]) == nil else { return versioned(old, as: type) }
            var marked = old
            marked.setValue(.string(RFC3339.format(now)), at: ["metadata", "deletionTimestamp"])
            marked.setValue(0, at: ["metadata", "deletionGracePeriodSeconds"])
            resourceVersion += 1
            marked.setValue(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
            setObject(marked, storage: type.storageKey, key: key)
            record(.modified, type: type, name: key, object: marked, previous: old)
            return versioned(marked, as: type)
        }
        let removed = remove(type.storageKey, key: key, object: old)
        let defaultPolicy = (type.group == "batch") ? "Orphan" : "Background"
        if (options.propagationPolicy ?? defaultPolicy) != "Orphan", let uid = old.string(at: ["metadata", "uid"]) {
            removeDependents(of: uid)
        }
        switch type.storageKey {
        case ResourceType.namespaces.storageKey:
            for (storage, members) in objects {
                for (memberKey, member) in members where memberKey.namespace == name {
                    _ = remove(storage, key: memberKey, object: member)
                }
            }
        case ResourceType.customResourceDefinitions.storageKey:
            if let group = old.string(at: ["spec", "group"]), let plural = old.string(at: ["spec", "names", "plural"]) {
                let storage = StorageKey(group: group, resource: plural)
                for (memberKey, member) in objects[storage] ?? [:] { _ = remove(storage, key: memberKey, object: member) }
                removeStorage(storage)
            }
            refreshCustomTypes()
        default: break
        }
        return versioned(removed, as: type)
    }

    /// Drops the whole watch history, so that every watch resuming from an older
    /// resourceVersion gets 410 Gone: fault injection for informers' re-list path.
    public mutating func compactHistory() {
        undoLog?.steps.append(.droppedRecords(history))
        history.removeAll()
        compactedThrough = resourceVersion
    }

    // MARK: Persistence

    /// Everything needed to start again where this store stopped (the history is not kept:
    /// after a restart, resuming watches get 410 and re-list, as after an etcd compaction).
    public struct Snapshot: Sendable, Codable {
        public struct Entry: Sendable, Codable {
            public var storage: StorageKey
            public var object: JSONValue
        }

        public var resourceVersion: UInt64
        public var objects: [Entry]

        /// The data file's bytes, written with `JSONValueWriter` (readable with `JSONDecoder`).
        public var jsonData: Data {
            JSONValueWriter.data([
                "resourceVersion": .number(Double(resourceVersion)),
                "objects": .array(objects.map { ["storage": ["group": .string($0.storage.group), "resource": .string($0.storage.resource)], "object": $0.object] }),
            ])
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            resourceVersion: resourceVersion,
            objects: objects.sorted { $0.key < $1.key }.flatMap { storage, members in
                members.sorted { $0.key < $1.key }.map { Snapshot.Entry(storage: storage, object: $0.value) }
            })
    }

    public init(restoring snapshot: Snapshot, historyCapacity: Int = 2_000) {
        self.historyCapacity = max(1, historyCapacity)
        resourceVersion = snapshot.resourceVersion
        compactedThrough = snapshot.resourceVersion
        for entry in snapshot.objects {
            guard let name = entry.object.string(at: ["metadata", "name"]) else { continue }
            let key = ObjectName(namespace: entry.object.string(at: ["metadata", "namespace"]), name: name)
            objects[entry.storage, default: [:]][key] = entry.object
        }
        refreshCustomTypes()
    }

    // MARK: Internals

    private func checkTypeMeta(_ object: JSONValue, type: ResourceType) throws(StoreError) {
        if let kind = object.string(at: ["kind"]), !kind.isEmpty, kind != type.kind {
            throw .badRequest("the kind of the object (\(kind)) does not match the resource \(type) (kind \(type.kind))")
        }
        if let apiVersion = object.string(at: ["apiVersion"]), !apiVersion.isEmpty {
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            if group != type.group {
                throw .badRequest("the apiVersion of the object (\(apiVersion)) does not match the resource \(type)")
            }
        }
    }

    private func checkResourceVersion(_ incoming: JSONValue, against old: JSONValue, type: ResourceType, name: String) throws(StoreError) {
        if let requested = incoming.string(at: ["metadata", "resourceVersion"]), !requested.isEmpty,
            requested != old.string(at: ["metadata", "resourceVersion"])
        {
            throw .conflict(type, name: name, reason: "the object has been modified; please apply your changes to the latest version and try again")
        }
    }

    private mutating func commitUpdate(
        old: JSONValue, incoming: JSONValue, type: ResourceType, namespace: String?, name: String, statusOnly: Bool, now: Date
    ) throws(StoreError) -> JSONValue {
        var new: JSONValue
        if statusOnly {
            new = old
            new.setValue(incoming["status"], at: ["status"])
        } else {
            new = incoming
            if type.hasStatusSubresource { new.setValue(old["status"], at: ["status"]) }
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name"] {
                new.setValue(old.value(at: ["metadata", field]), at: ["metadata", field])
            }
        }
        new.setValue(.string(type.apiVersion), at: ["apiVersion"])
        new.setValue(.string(type.kind), at: ["kind"])
        switch type.storageKey {
        case ResourceType.namespaces.storageKey:
            new.setValue(.string(name), at: ["metadata", "labels", "kubernetes.io/metadata.name"])
        case ResourceType.jobs.storageKey where !statusOnly: try ResourceRules.validateJobUpdate(old: old, new: new, name: name)
        case ResourceType.cronJobs.storageKey where !statusOnly: try ResourceRules.validateCronJob(new, name: name)
        case ResourceType.customResourceDefinitions.storageKey where !statusOnly:
            try ResourceRules.validateDefinition(new, name: name)
            if old["spec"] != new["spec"] { new.setValue(ResourceRules.definitionStatus(new, now: now), at: ["status"]) }
        default: break
        }
        let contentPaths: [[String]] = [["metadata"], ["status"], ["apiVersion"], ["kind"]]
        let oldGeneration = old.value(at: ["metadata", "generation"])?.numberValue ?? 1
        let generation = old.removing(contentPaths) == new.removing(contentPaths) ? oldGeneration : oldGeneration + 1
        new.setValue(.number(generation), at: ["metadata", "generation"])
        let unversioned: [[String]] = [["metadata", "resourceVersion"]]
        if new.removing(unversioned) == old.removing(unversioned) { return versioned(old, as: type) }
        let key = ObjectName(namespace: type.namespaced ? namespace : nil, name: name)
        resourceVersion += 1
        new.setValue(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        if new.value(at: ["metadata", "deletionTimestamp"]) != nil, (new.value(at: ["metadata", "finalizers"])?.arrayValue ?? []).isEmpty {
            resourceVersion -= 1
            return versioned(remove(type.storageKey, key: key, object: new), as: type)
        }
        setObject(new, storage: type.storageKey, key: key)
        record(.modified, type: type, name: key, object: new, previous: old)
        if type.storageKey == ResourceType.customResourceDefinitions.storageKey { refreshCustomTypes() }
        return versioned(new, as: type)
    }

    private mutating func remove(_ storage: StorageKey, key: ObjectName, object: JSONValue) -> JSONValue {
        setObject(nil, storage: storage, key: key)
        resourceVersion += 1
        var final = object
        final.setValue(.string(String(resourceVersion)), at: ["metadata", "resourceVersion"])
        appendRecord(WatchRecord(resourceVersion: resourceVersion, type: .deleted, storage: storage, name: key, object: final))
        return final
    }

    private mutating func removeDependents(of ownerUID: String) {
        var pending = [ownerUID]
        while let uid = pending.popLast() {
            for (storage, members) in objects {
                for (key, member) in members {
                    let owned = (member.value(at: ["metadata", "ownerReferences"])?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
                    guard owned, objects[storage]?[key] != nil else { continue }
                    _ = remove(storage, key: key, object: member)
                    if let dependentUID = member.string(at: ["metadata", "uid"]) { pending.append(dependentUID) }
                }
            }
        }
    }

    private mutating func record(_ type: WatchEventType, type resourceType: ResourceType, name: ObjectName, object: JSONValue, previous: JSONValue? = nil) {
        appendRecord(WatchRecord(resourceVersion: resourceVersion, type: type, storage: resourceType.storageKey, name: name, object: object, previous: previous))
    }

    private mutating func appendRecord(_ record: WatchRecord) {
        history.append(record)
        undoLog?.steps.append(.appendedRecord)
        if history.count > historyCapacity + historyCapacity / 4 {
            let dropped = history.count - historyCapacity
            compactedThrough = history[dropped - 1].resourceVersion
            undoLog?.steps.append(.droppedRecords(Array(history.prefix(dropped))))
            history.removeFirst(dropped)
        }
    }

    // MARK: The undo log

    /// The scalars as they were when the transaction began, and each change since.
    private struct UndoLog: Sendable {
        var resourceVersion: UInt64
        var compactedThrough: UInt64
        var customTypes: [ResourceType]
        var steps: [UndoStep] = []
    }

    private enum UndoStep: Sendable {
        /// An object was set or removed; `previous` is what was there.
        case object(StorageKey, ObjectName, previous: JSONValue?)
        /// A whole resource's dictionary was created (previous nil) or removed.
        case storage(StorageKey, previous: [ObjectName: JSONValue]?)
        case appendedRecord
        /// Records dropped from the front of the history (compaction).
        case droppedRecords([WatchRecord])
    }

    /// The one place objects are stored or removed, so that the undo log sees every change.
    private mutating func setObject(_ object: JSONValue?, storage: StorageKey, key: ObjectName) {
        if undoLog != nil {
            if objects[storage] == nil { undoLog?.steps.append(.storage(storage, previous: nil)) }
            undoLog?.steps.append(.object(storage, key, previous: objects[storage]?[key]))
        }
        if let object {
            objects[storage, default: [:]][key] = object
        } else {
            objects[storage]?.removeValue(forKey: key)
        }
    }

    private mutating func removeStorage(_ storage: StorageKey) {
        undoLog?.steps.append(.storage(storage, previous: objects[storage]))
        objects.removeValue(forKey: storage)
    }

    /// Undoes the open transaction's steps, newest first, and restores its scalars.
    private mutating func rollBack() {
        guard let log = undoLog else { return }
        undoLog = nil
        for step in log.steps.reversed() {
            switch step {
            case .object(let storage, let key, let previous):
                if let previous {
                    objects[storage, default: [:]][key] = previous
                } else {
                    objects[storage]?.removeValue(forKey: key)
                }
            case .storage(let storage, let previous):
                objects[storage] = previous
            case .appendedRecord:
                history.removeLast()
            case .droppedRecords(let records):
                history.insert(contentsOf: records, at: 0)
            }
        }
        resourceVersion = log.resourceVersion
        compactedThrough = log.compactedThrough
        customTypes = log.customTypes
    }

    private mutating func refreshCustomTypes() {
        customTypes = (objects[ResourceType.customResourceDefinitions.storageKey] ?? [:])
            .sorted { $0.key < $1.key }
            .flatMap { ResourceType.fromDefinition($0.value) }
    }

    /// The object as read at `type`'s version (CRD objects are stored at the version they
    /// were written with; no conversion is done, only the apiVersion is set).
    private func versioned(_ object: JSONValue, as type: ResourceType) -> JSONValue {
        guard object.string(at: ["apiVersion"]) != type.apiVersion, type.storageKey.group == type.group else { return object }
        var copy = object
        copy.setValue(.string(type.apiVersion), at: ["apiVersion"])
        return copy
    }

    private static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

/// `limit`/`continue` paging state, opaque to clients (base64 JSON, as the real server's).
struct ContinueToken: Codable {
    var resourceVersion: UInt64
    var namespace: String
    var name: String

    init(resourceVersion: UInt64, namespace: String, name: String) {
        self.resourceVersion = resourceVersion
        self.namespace = namespace
        self.name = name
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), let token = try? JSONDecoder().decode(ContinueToken.self, from: data) else { return nil }
        self = token
    }

    var encoded: String { ((try? JSONEncoder().encode(self)) ?? Data()).base64EncodedString() }
}
