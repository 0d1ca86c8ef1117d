import DevAPIStore
import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit

let epoch = Date(timeIntervalSince1970: 1_796_284_800)

/// A store with the `batch` namespace the fixtures use.
func makeStore(historyCapacity: Int = 2_000) throws -> DevAPIStore {
    var store = DevAPIStore(historyCapacity: historyCapacity, now: epoch)
    try store.create(["metadata": ["name": "batch"]], type: .namespaces, namespace: nil, now: epoch)
    return store
}

func patchData(_ text: String) -> Data { Data(text.utf8) }

extension JSONValue {
    func at(_ path: String) -> JSONValue? {
        var node: JSONValue? = self
        for key in path.split(separator: ".") { node = node?[String(key)] }
        return node
    }
}

/// A CRD like the project's CarbonAwarePolicy, with a status subresource.
let policyDefinition: JSONValue = [
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": ["name": "carbonawarepolicies.carbon-aware.io"],
    "spec": [
        "group": "carbon-aware.io", "scope": "Namespaced",
        "names": ["plural": "carbonawarepolicies", "singular": "carbonawarepolicy", "kind": "CarbonAwarePolicy", "listKind": "CarbonAwarePolicyList"],
        "versions": [["name": "v1alpha1", "served": true, "storage": true, "subresources": ["status": [:]], "schema": ["openAPIV3Schema": ["type": "object"]]]],
    ],
]
