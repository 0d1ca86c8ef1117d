/// Plans the minimal JSON Patch ops that steer a Job's pods to a Karpenter NodePool: a node
/// affinity term on `karpenter.sh/nodepool` (preferred, or required in strict mode) and the
/// toleration for the pool's taint.
///
/// What the Job already has is kept: each op adds at the deepest path that exists, so pod
/// (anti-)affinity, other preferred terms, the nodeSelector and other tolerations survive.
/// When the Job's own constraints exclude the pool (a nodeSelector or required affinity that
/// pins another pool), nothing is injected and a warning says why: Karbonetes never makes a
/// Job unschedulable.
public enum SchedulingInjection {
    public struct Plan: Sendable, Hashable {
        public var operations: [JSONPatchOperation]
        public var warnings: [String]
        /// False when a conflict stopped the injection.
        public var injected: Bool
    }

    /// The weight of the injected preferred term: the strongest, so Karpenter tries the pool
    /// first and relaxes the preference only when it cannot provision there.
    public static let preferenceWeight = 100

    static let podSpecPath: JSONPointer = "/spec/template/spec"

    public static func plan(for job: Job, pool: PoolDirective, mode: SchedulingMode) -> Plan {
        let key = CarbonAnnotations.karpenterNodePoolLabel
        guard let podSpec = job.spec?.template?.spec else {
            return Plan(operations: [], warnings: ["Job \(job.metadata.key) has no spec.template.spec; not steering it to NodePool \"\(pool.name)\""], injected: false)
        }
        if let conflict = conflict(podSpec: podSpec, pool: pool.name) {
            return Plan(operations: [], warnings: ["not steering Job \(job.metadata.key) to NodePool \"\(pool.name)\": \(conflict)"], injected: false)
        }

        var operations: [JSONPatchOperation] = []
        let requirement = NodeSelectorRequirement(key: key, operator: "In", values: [pool.name])
        let pinnedBySelector = podSpec.nodeSelector?[key] == pool.name
        if !pinnedBySelector {
            switch mode {
            case .prefer: operations += preferOps(podSpec: podSpec, requirement: requirement)
            case .strict: operations += requireOps(podSpec: podSpec, requirement: requirement)
            }
        }
        if let taint = pool.taint, !(podSpec.tolerations ?? []).contains(where: { tolerates($0, taint) }) {
            let toleration = toleration(for: taint)
            if podSpec.tolerations == nil {
                operations.append(.add(podSpecPath.appending("tolerations"), .array([toleration])))
            } else {
                operations.append(.add(podSpecPath.appending("tolerations").appendingEnd(), toleration))
            }
        }
        return Plan(operations: operations, warnings: [], injected: true)
    }

    /// Why the Job's own constraints rule the pool out, or `nil` when they do not.
    static func conflict(podSpec: PodSpec, pool: String) -> String? {
        let key = CarbonAnnotations.karpenterNodePoolLabel
        if let pinned = podSpec.nodeSelector?[key], pinned != pool {
            return "its nodeSelector pins \(key)=\(pinned)"
        }
        let terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        if !terms.isEmpty, !terms.contains(where: { admits($0, pool: pool) }) {
            return "its required node affinity excludes \(key)=\(pool)"
        }
        return nil
    }

    /// Whether a node of `pool` could satisfy the term, as far as the nodepool label goes.
    static func admits(_ term: NodeSelectorTerm, pool: String) -> Bool {
        for requirement in term.matchExpressions ?? [] where requirement.key == CarbonAnnotations.karpenterNodePoolLabel {
            let values = requirement.values ?? []
            switch requirement.operator {
            case "In": if !values.contains(pool) { return false }
            case "NotIn": if values.contains(pool) { return false }
            case "Exists": continue
            default: return false
            }
        }
        return true
    }

    private static func preferOps(podSpec: PodSpec, requirement: NodeSelectorRequirement) -> [JSONPatchOperation] {
        let term = PreferredSchedulingTerm(weight: preferenceWeight, preference: NodeSelectorTerm(matchExpressions: [requirement]))
        let existing = podSpec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution
        if existing?.contains(where: { $0.preference.matchExpressions?.contains(requirement) ?? false }) ?? false {
            return []
        }
        let termValue = encoded(term)
        let affinityPath = podSpecPath.appending("affinity")
        guard let affinity = podSpec.affinity else {
            return [.add(affinityPath, ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [termValue]]])]
        }
        let nodeAffinityPath = affinityPath.appending("nodeAffinity")
        guard let nodeAffinity = affinity.nodeAffinity else {
            return [.add(nodeAffinityPath, ["preferredDuringSchedulingIgnoredDuringExecution": [termValue]])]
        }
        let preferredPath = nodeAffinityPath.appending("preferredDuringSchedulingIgnoredDuringExecution")
        guard nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution != nil else {
            return [.add(preferredPath, [termValue])]
        }
        return [.add(preferredPath.appendingEnd(), termValue)]
    }

    /// Node selector terms are ORed, so the requirement goes into every term: a term left
    /// without it would let pods land outside the pool.
    private static func requireOps(podSpec: PodSpec, requirement: NodeSelectorRequirement) -> [JSONPatchOperation] {
        let requirementValue = encoded(requirement)
        let affinityPath = podSpecPath.appending("affinity")
        let selector: JSONValue = ["nodeSelectorTerms": [["matchExpressions": [requirementValue]]]]
        guard let affinity = podSpec.affinity else {
            return [.add(affinityPath, ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": selector]])]
        }
        let nodeAffinityPath = affinityPath.appending("nodeAffinity")
        guard let nodeAffinity = affinity.nodeAffinity else {
            return [.add(nodeAffinityPath, ["requiredDuringSchedulingIgnoredDuringExecution": selector])]
        }
        let requiredPath = nodeAffinityPath.appending("requiredDuringSchedulingIgnoredDuringExecution")
        guard let required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, !required.nodeSelectorTerms.isEmpty else {
            return [.add(requiredPath, selector)]
        }
        var operations: [JSONPatchOperation] = []
        for (index, term) in required.nodeSelectorTerms.enumerated() {
            if term.matchExpressions?.contains(requirement) ?? false { continue }
            let termPath = requiredPath.appending("nodeSelectorTerms").appending(index)
            if term.matchExpressions == nil {
                operations.append(.add(termPath.appending("matchExpressions"), [requirementValue]))
            } else {
                operations.append(.add(termPath.appending("matchExpressions").appendingEnd(), requirementValue))
            }
        }
        return operations
    }

    /// Kubernetes' toleration matching (`Toleration.ToleratesTaint`).
    public static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        let key = toleration.key ?? ""
        let op = toleration.operator ?? "Equal"
        if key.isEmpty { return op == "Exists" }
        guard key == taint.key else { return false }
        switch op {
        case "Exists": return true
        case "Equal": return (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }

    static func toleration(for taint: Taint) -> JSONValue {
        var fields: [String: JSONValue] = ["key": .string(taint.key)]
        if let value = taint.value, !value.isEmpty {
            fields["operator"] = "Equal"
            fields["value"] = .string(value)
        } else {
            fields["operator"] = "Exists"
        }
        if let effect = taint.effect, !effect.isEmpty { fields["effect"] = .string(effect) }
        return .object(fields)
    }

    private static func encoded(_ requirement: NodeSelectorRequirement) -> JSONValue {
        ["key": .string(requirement.key), "operator": .string(requirement.operator), "values": .array((requirement.values ?? []).map { .string($0) })]
    }

    private static func encoded(_ term: PreferredSchedulingTerm) -> JSONValue {
        [
            "weight": .number(Double(term.weight)),
            "preference": ["matchExpressions": .array((term.preference.matchExpressions ?? []).map { encoded($0) })],
        ]
    }
}
