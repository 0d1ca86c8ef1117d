public import Foundation

/// The parts of `metav1.ObjectMeta` Karbonetes reads. Every field is optional and unknown
/// fields (managedFields, …) are ignored, so any real object decodes. These partial models are
/// for reading only: writes go out as patches built from them, never as re-encoded objects.
public struct ObjectMeta: Sendable, Hashable, Codable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Date?
    public var deletionTimestamp: Date?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?

    public init(
        name: String? = nil, generateName: String? = nil, namespace: String? = nil, uid: String? = nil,
        resourceVersion: String? = nil, generation: Int64? = nil, creationTimestamp: Date? = nil,
        deletionTimestamp: Date? = nil, labels: [String: String]? = nil, annotations: [String: String]? = nil,
        ownerReferences: [OwnerReference]? = nil, finalizers: [String]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
    }

    public func label(_ key: String) -> String? { labels?[key] }
    public func annotation(_ key: String) -> String? { annotations?[key] }

    /// The owner that controls this object (at most one has `controller: true`).
    public var controllerReference: OwnerReference? { ownerReferences?.first { $0.controller == true } }

    /// `namespace/name`, the key work queues and logs use.
    public var key: String { ObjectKey(namespace: namespace, name: name ?? generateName ?? "").description }
}

public struct OwnerReference: Sendable, Hashable, Codable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// Identifies a namespaced (or cluster-scoped, with no namespace) object: the work-queue key.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    /// Parses `namespace/name` or `name`.
    public init(parsing key: String) {
        if let slash = key.firstIndex(of: "/") {
            self.init(namespace: String(key[..<slash]), name: String(key[key.index(after: slash)...]))
        } else {
            self.init(namespace: nil, name: key)
        }
    }

    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool { lhs.description < rhs.description }
}

/// What every top-level object has, so that caches, clients and queues can be generic.
public protocol KubernetesObject: Sendable, Codable {
    var metadata: ObjectMeta { get set }
}

extension KubernetesObject {
    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "") }
}

/// A reference to another object, as Events and CronJob status carry them.
public struct ObjectReference: Sendable, Hashable, Codable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(
        apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
        uid: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }
}

/// `metav1.Condition`, as CarbonAwarePolicy status carries them.
public struct Condition: Sendable, Hashable, Codable {
    public var type: String
    public var status: String
    public var observedGeneration: Int64?
    public var lastTransitionTime: Date?
    public var reason: String?
    public var message: String?

    public init(type: String, status: String, observedGeneration: Int64? = nil, lastTransitionTime: Date? = nil, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }
}
