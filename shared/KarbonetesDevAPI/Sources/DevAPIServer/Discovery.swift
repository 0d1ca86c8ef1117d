import DevAPIStore
import KarbonetesModels

/// The discovery documents kubectl and client libraries read to learn what the server serves
/// (legacy, unaggregated discovery: kubectl falls back to it when the aggregated form is
/// not offered).
enum Discovery {
    static let verbs: JSONValue = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    static func versions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static func groupList(_ types: [ResourceType]) -> JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups(types).map { group($0.name, versions: $0.versions) })]
    }

    static func group(named name: String, in types: [ResourceType]) -> JSONValue? {
        groups(types).first { $0.name == name }.map { group($0.name, versions: $0.versions) }
    }

    static func resourceList(group: String, version: String, types: [ResourceType]) -> JSONValue? {
        let served = types.filter { $0.group == group && $0.version == version }
        guard !served.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in served {
            var entry: JSONValue = [
                "name": .string(type.resource), "singularName": .string(type.singular), "namespaced": .bool(type.namespaced),
                "kind": .string(type.kind), "verbs": verbs,
            ]
            if case .object(var members) = entry {
                if !type.shortNames.isEmpty { members["shortNames"] = .array(type.shortNames.map(JSONValue.string)) }
                if type.resource == "jobs" || type.resource == "cronjobs" { members["categories"] = ["all"] }
                entry = .object(members)
            }
            resources.append(entry)
            if type.hasStatusSubresource {
                resources.append([
                    "name": .string(type.resource + "/status"), "singularName": "", "namespaced": .bool(type.namespaced),
                    "kind": .string(type.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(served[0].apiVersion), "resources": .array(resources)]
    }

    static let version: JSONValue = [
        "major": "1", "minor": "33", "gitVersion": "v1.33.0-karbonetes-devapi", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-12-03T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc", "platform": "linux/amd64",
    ]

    private static func groups(_ types: [ResourceType]) -> [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for type in types where !type.group.isEmpty {
            if versions[type.group] == nil { order.append(type.group) }
            if !(versions[type.group]?.contains(type.version) ?? false) { versions[type.group, default: []].append(type.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    private static func group(_ name: String, versions: [String]) -> JSONValue {
        let entries: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(entries), "preferredVersion": entries.first ?? .null]
    }
}

/// A minimal OpenAPI v3 description: the paths of each served resource with their
/// group-version-kind and the `fieldValidation` and `dryRun` parameters, and no schemas.
/// It is what kubectl reads to learn that the server validates fields itself (so it sends
/// `fieldValidation=Strict` instead of downloading schemas to validate client-side); with
/// no schema for a kind, `kubectl apply` computes its patch from its built-in types
/// (strategic merge) or as a JSON merge patch for custom resources.
enum OpenAPIDocument {
    static func root(_ types: [ResourceType]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for type in types {
            let key = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash(key, types))")]
        }
        return ["paths": .object(paths)]
    }

    static func groupVersion(_ key: String, types: [ResourceType]) -> JSONValue? {
        let served = types.filter { ($0.group.isEmpty ? "api/\($0.version)" : "apis/\($0.group)/\($0.version)") == key }
        guard !served.isEmpty else { return nil }
        let parameters: JSONValue = [
            ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
        ]
        var paths: [String: JSONValue] = [:]
        for type in served {
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            func operation(_ id: String) -> JSONValue {
                ["operationId": .string(id + type.kind), "x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": ["200": ["description": "OK"]]]
            }
            let prefix = "/\(key)" + (type.namespaced ? "/namespaces/{namespace}" : "") + "/\(type.resource)"
            paths[prefix] = ["get": operation("list"), "post": operation("create")]
            paths[prefix + "/{name}"] = ["get": operation("read"), "put": operation("replace"), "patch": operation("patch"), "delete": operation("delete")]
            if type.hasStatusSubresource {
                paths[prefix + "/{name}/status"] = ["get": operation("readStatus"), "put": operation("replaceStatus"), "patch": operation("patchStatus")]
            }
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.33.0-karbonetes-devapi"],
            "paths": .object(paths), "components": ["schemas": [:]],
        ]
    }

    private static func hash(_ key: String, _ types: [ResourceType]) -> String {
        var value: UInt64 = 1_469_598_103_934_665_603
        for byte in (key + types.map(\.description).joined(separator: ",")).utf8 {
            value = (value ^ UInt64(byte)) &* 1_099_511_628_211
        }
        return String(value, radix: 16)
    }
}
