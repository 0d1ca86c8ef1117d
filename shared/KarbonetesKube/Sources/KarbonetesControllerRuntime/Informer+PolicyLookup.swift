public import KarbonetesModels

/// A CarbonAwarePolicy informer is the services' policy source: decisions read its cache (no
/// API call per admission or reconcile), and readiness waits for its first list.
extension Informer: PolicyLookup where Object == CarbonAwarePolicy {
    public func policy(namespace: String, name: String) -> CarbonAwarePolicy? {
        cache.get(ObjectKey(namespace: namespace, name: name))
    }

    public var isSynced: Bool { hasSynced }
}
