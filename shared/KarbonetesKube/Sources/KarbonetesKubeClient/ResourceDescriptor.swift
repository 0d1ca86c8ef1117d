public import KarbonetesModels

/// What the client needs to build a resource's URL, so that a request never spells a path by
/// hand: `/api/v1/…` for the core group, `/apis/<group>/<version>/…` otherwise, with
/// `/namespaces/<ns>/` for namespaced resources.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// Empty for the core group (`v1`).
    public var group: String
    public var version: String
    /// The URL segment (`jobs`).
    public var plural: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `batch/v1`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `jobs.batch/v1`, as errors and logs name it.
    public var description: String { group.isEmpty ? "\(plural)/\(version)" : "\(plural).\(group)/\(version)" }

    /// The path of the collection or of one object (and its subresource). `namespace` is
    /// ignored for cluster-scoped resources; nil for a namespaced one means all namespaces,
    /// which only list and watch accept.
    public func path(namespace: String? = nil, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace, !namespace.isEmpty {
            path += "/namespaces/\(namespace)"
        }
        path += "/\(plural)"
        if let name {
            path += "/\(name)"
            if let subresource, !subresource.isEmpty { path += "/\(subresource)" }
        }
        return path
    }

    public static let jobs = ResourceDescriptor(group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true)
    public static let cronJobs = ResourceDescriptor(group: "batch", version: "v1", plural: "cronjobs", kind: "CronJob", namespaced: true)
    public static let leases = ResourceDescriptor(
        group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true)
    public static let events = ResourceDescriptor(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true)
    public static let namespaces = ResourceDescriptor(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let carbonAwarePolicies = ResourceDescriptor(
        group: CarbonAwarePolicy.group, version: CarbonAwarePolicy.version, plural: CarbonAwarePolicy.plural,
        kind: CarbonAwarePolicy.kind, namespaced: true)
    public static let customResourceDefinitions = ResourceDescriptor(
        group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition",
        namespaced: false)
    public static let mutatingWebhookConfigurations = ResourceDescriptor(
        group: "admissionregistration.k8s.io", version: "v1", plural: "mutatingwebhookconfigurations",
        kind: "MutatingWebhookConfiguration", namespaced: false)
}

/// A model type that knows its resource, so that calls read `client.get(Job.self, …)` without
/// repeating the descriptor.
public protocol KubernetesResource: KubernetesObject {
    static var resource: ResourceDescriptor { get }
}

extension Job: KubernetesResource {
    public static var resource: ResourceDescriptor { .jobs }
}

extension CronJob: KubernetesResource {
    public static var resource: ResourceDescriptor { .cronJobs }
}

extension Lease: KubernetesResource {
    public static var resource: ResourceDescriptor { .leases }
}

extension Event: KubernetesResource {
    public static var resource: ResourceDescriptor { .events }
}

extension CarbonAwarePolicy: KubernetesResource {
    public static var resource: ResourceDescriptor { .carbonAwarePolicies }
}
