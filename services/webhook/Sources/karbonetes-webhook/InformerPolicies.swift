import KarbonetesControllerRuntime
import KarbonetesModels

/// Admission reads CarbonAwarePolicies from an informer's cache (list + watch): no API call
/// per request, and a policy change is visible as soon as its watch event arrives.
struct InformerPolicies: PolicyLookup {
    let informer: Informer<CarbonAwarePolicy>
    func policy(namespace: String, name: String) -> CarbonAwarePolicy? { informer.cache.get(ObjectKey(namespace: namespace, name: name)) }
    var isSynced: Bool { informer.hasSynced }
}
