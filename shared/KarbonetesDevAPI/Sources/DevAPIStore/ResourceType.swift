import KarbonetesModels

/// One resource the server serves at one group/version: what discovery lists and what the
/// routes resolve to. Objects are stored per group and resource (not per version), as the
/// real server stores them, so a CRD served at two versions shares its objects.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    /// The plural, lower-case name in URLs: `jobs`.
    public var resource: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    /// Whether `/status` is a subresource: then writes to the main resource keep the old
    /// status and status writes keep everything else, as the real server does.
    public var hasStatusSubresource: Bool
    public var shortNames: [String]

    public init(
        group: String, version: String, resource: String, singular: String, kind: String, namespaced: Bool,
        hasStatusSubresource: Bool, shortNames: [String] = []
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.hasStatusSubresource = hasStatusSubresource
        self.shortNames = shortNames
    }

    /// `batch/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var listKind: String { kind + "List" }
    /// The storage key, shared by every served version of a resource.
    public var storageKey: StorageKey { StorageKey(group: group, resource: resource) }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public static let namespaces = ResourceType(
        group: "", version: "v1", resource: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false,
        hasStatusSubresource: true, shortNames: ["ns"])
    public static let events = ResourceType(
        group: "", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true,
        hasStatusSubresource: false, shortNames: ["ev"])
    public static let eventsV1 = ResourceType(
        group: "events.k8s.io", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true,
        hasStatusSubresource: false, shortNames: ["ev"])
    public static let jobs = ResourceType(
        group: "batch", version: "v1", resource: "jobs", singular: "job", kind: "Job", namespaced: true,
        hasStatusSubresource: true)
    public static let cronJobs = ResourceType(
        group: "batch", version: "v1", resource: "cronjobs", singular: "cronjob", kind: "CronJob", namespaced: true,
        hasStatusSubresource: true, shortNames: ["cj"])
    public static let leases = ResourceType(
        group: "coordination.k8s.io", version: "v1", resource: "leases", singular: "lease", kind: "Lease",
        namespaced: true, hasStatusSubresource: false)
    public static let customResourceDefinitions = ResourceType(
        group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions",
        singular: "customresourcedefinition", kind: "CustomResourceDefinition", namespaced: false,
        hasStatusSubresource: true, shortNames: ["crd", "crds"])
    public static let mutatingWebhookConfigurations = ResourceType(
        group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations",
        singular: "mutatingwebhookconfiguration", kind: "MutatingWebhookConfiguration", namespaced: false,
        hasStatusSubresource: false)

    /// The resources every server has, before any CRD is installed.
    public static let builtIn: [ResourceType] = [
        .namespaces, .events, .eventsV1, .jobs, .cronJobs, .leases, .customResourceDefinitions,
        .mutatingWebhookConfigurations,
    ]

    /// The types a `CustomResourceDefinition` object declares, one per served version; nil
    /// when the definition lacks what routing needs (the store rejects it as invalid first).
    static func fromDefinition(_ definition: JSONValue) -> [ResourceType] {
        guard let group = definition.string(at: ["spec", "group"]),
            let plural = definition.string(at: ["spec", "names", "plural"]),
            let kind = definition.string(at: ["spec", "names", "kind"])
        else { return [] }
        let singular = definition.string(at: ["spec", "names", "singular"]) ?? kind.lowercased()
        let namespaced = definition.string(at: ["spec", "scope"]) != "Cluster"
        let shortNames = definition.value(at: ["spec", "names", "shortNames"])?.arrayValue?.compactMap(\.stringValue) ?? []
        return (definition.value(at: ["spec", "versions"])?.arrayValue ?? []).compactMap { version in
            guard let name = version["name"]?.stringValue, version["served"]?.boolValue != false else { return nil }
            return ResourceType(
                group: group, version: name, resource: plural, singular: singular, kind: kind, namespaced: namespaced,
                hasStatusSubresource: version.value(at: ["subresources", "status"]) != nil, shortNames: shortNames)
        }
    }
}

/// Where objects of one resource live, whatever version they are read at.
public struct StorageKey: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public static func < (lhs: StorageKey, rhs: StorageKey) -> Bool { lhs.description < rhs.description }
}
