import DevAPIStore
import Foundation
import KarbonetesModels

/// `meta.k8s.io/v1` Table responses, which `kubectl get` asks for (`Accept: …;as=Table`) to
/// print its columns: the name, a few per-resource columns, and the age.
enum TableRendering {
    static func wantsTable(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    static func table(_ type: ResourceType, items: [JSONValue], resourceVersion: String, continueToken: String? = nil, now: Date) -> JSONValue {
        var columns: [JSONValue] = [column("Name", format: "name")]
        let extra = extraColumns(type)
        columns += extra.map { column($0.name) }
        columns.append(column("Age"))
        let rows: [JSONValue] = items.map { item in
            var cells: [JSONValue] = [item.value(atPath: ["metadata", "name"]) ?? ""]
            cells += extra.map { .string($0.value(item)) }
            cells.append(.string(age(item.value(atPath: ["metadata", "creationTimestamp"])?.stringValue, now: now)))
            return ["cells": .array(cells), "object": item]
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(columns), "rows": .array(rows)]
    }

    private static func column(_ name: String, format: String = "") -> JSONValue {
        ["name": .string(name), "type": "string", "format": .string(format), "description": "", "priority": 0]
    }

    private static func extraColumns(_ type: ResourceType) -> [(name: String, value: @Sendable (JSONValue) -> String)] {
        switch type.storageKey {
        case ResourceType.jobs.storageKey:
            return [
                ("Status", { job in
                    let conditions = job.value(atPath: ["status", "conditions"])?.arrayValue ?? []
                    if conditions.contains(where: { $0["type"] == "Complete" && $0["status"] == "True" }) { return "Complete" }
                    if conditions.contains(where: { $0["type"] == "Failed" && $0["status"] == "True" }) { return "Failed" }
                    if job.value(atPath: ["spec", "suspend"]) == .bool(true) { return "Suspended" }
                    return "Running"
                }),
                ("Completions", { job in
                    let succeeded = job.value(atPath: ["status", "succeeded"]).map(number) ?? "0"
                    return "\(succeeded)/\(job.value(atPath: ["spec", "completions"]).map(number) ?? "1")"
                }),
            ]
        case ResourceType.cronJobs.storageKey:
            return [
                ("Schedule", { $0.value(atPath: ["spec", "schedule"])?.stringValue ?? "" }),
                ("Suspend", { $0.value(atPath: ["spec", "suspend"]) == .bool(true) ? "True" : "False" }),
                ("Last Schedule", { $0.value(atPath: ["status", "lastScheduleTime"])?.stringValue ?? "<none>" }),
            ]
        case ResourceType.namespaces.storageKey:
            return [("Status", { $0.value(atPath: ["status", "phase"])?.stringValue ?? "" })]
        case ResourceType.leases.storageKey:
            return [("Holder", { $0.value(atPath: ["spec", "holderIdentity"])?.stringValue ?? "" })]
        default:
            return []
        }
    }

    private static func number(_ value: JSONValue) -> String {
        if case .number(let number) = value { return String(Int64(number)) }
        return value.stringValue ?? ""
    }

    static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = RFC3339.parse(timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7_200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3_600)h" }
        return "\(seconds / 86_400)d"
    }
}

extension JSONValue {
    func value(atPath path: [String]) -> JSONValue? {
        var node = self
        for key in path {
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }
}
