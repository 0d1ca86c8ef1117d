public import KarbonetesModels

/// Reading and editing Kubernetes objects held as `JSONValue`, so a scenario can take a
/// sample manifest, change an annotation, and check fields as the server stored them.
extension JSONValue {
    public var name: String? { self["metadata"]?["name"]?.stringValue }
    public var namespace: String? { self["metadata"]?["namespace"]?.stringValue }

    public func annotation(_ key: String) -> String? { self["metadata"]?["annotations"]?[key]?.stringValue }
    public func label(_ key: String) -> String? { self["metadata"]?["labels"]?[key]?.stringValue }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value at `path` (object keys, or decimal indices into arrays).
    public subscript(path path: [String]) -> JSONValue? {
        var current: JSONValue? = self
        for component in path {
            guard let value = current else { return nil }
            if case .array(let items) = value, let index = Int(component) {
                current = items.indices.contains(index) ? .some(items[index]) : .none
            } else {
                current = value[component]
            }
        }
        return current
    }

    /// A copy with `value` at `path`, making the objects on the way (`nil` removes the key).
    public func setting(_ path: [String], to value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        var members = objectValue ?? [:]
        let rest = Array(path.dropFirst())
        if rest.isEmpty {
            members[first] = value
        } else {
            members[first] = (members[first] ?? .object([:])).setting(rest, to: value)
        }
        return .object(members)
    }

    public func settingAnnotation(_ key: String, _ value: String?) -> JSONValue {
        setting(["metadata", "annotations", key], to: value.map { .string($0) })
    }

    public func settingName(_ name: String, namespace: String? = nil) -> JSONValue {
        var result = setting(["metadata", "name"], to: .string(name))
        if let namespace { result = result.setting(["metadata", "namespace"], to: .string(namespace)) }
        return result
    }

    // MARK: What Karbonetes wrote on a Job

    public var podSpec: JSONValue? { self[path: ["spec", "template", "spec"]] }

    public var isSuspended: Bool { self[path: ["spec", "suspend"]]?.boolValue ?? false }

    /// The NodePools the pod template prefers (weight and pool name) on `karpenter.sh/nodepool`.
    public var preferredNodePools: [String] {
        let terms =
            podSpec?[path: ["affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]]?.arrayValue
            ?? []
        return terms.flatMap { term in Self.nodePoolValues(term[path: ["preference", "matchExpressions"]]) }
    }

    /// The NodePools the pod template requires on `karpenter.sh/nodepool` (strict mode).
    public var requiredNodePools: [String] {
        let terms =
            podSpec?[path: [
                "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms",
            ]]?.arrayValue ?? []
        return terms.flatMap { term in Self.nodePoolValues(term["matchExpressions"]) }
    }

    /// The pool the Job was steered to, preferred or required (the demo table's column).
    public var steeredPool: String? { (requiredNodePools + preferredNodePools).first }

    public var tolerationKeys: [String] {
        (podSpec?["tolerations"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue }
    }

    private static func nodePoolValues(_ expressions: JSONValue?) -> [String] {
        (expressions?.arrayValue ?? []).flatMap { expression -> [String] in
            guard expression["key"]?.stringValue == CarbonAnnotations.karpenterNodePoolLabel else { return [] }
            return (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
    }
}
