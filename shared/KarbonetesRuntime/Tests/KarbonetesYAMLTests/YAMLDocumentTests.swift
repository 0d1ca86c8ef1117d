import Foundation
import KarbonetesYAML
import Testing

@Suite("YAML documents")
struct YAMLDocumentTests {
    @Test("a multi-document manifest gives one value per document, in order, with key order kept")
    func multiDocument() throws {
        let documents = try YAML.parseDocuments(Fixtures.manifest)
        #expect(documents.count == 3)
        #expect(documents[0]["kind"] == .string("Namespace"))
        #expect(documents[1]["kind"] == .string("Job"))
        #expect(documents[1]["metadata"]?["annotations"]?["carbon-aware.io/max-delay"] == .string("6h"))
        #expect(
            documents[1]["spec"]?["template"]?["spec"]?["containers"]?[0]?["args"]
                == .sequence([.string("--rows"), .string("1000")])
        )
        #expect(documents[1]["spec"]?["backoffLimit"] == .int(3))
        #expect(documents[2] == .null)
        guard case .mapping(let entries) = documents[1] else {
            Issue.record("the Job is not a mapping")
            return
        }
        #expect(entries.map(\.key) == ["apiVersion", "kind", "metadata", "spec"])
    }

    @Test("a file with CRLF line ends reads like one with LF")
    func crlf() throws {
        let lf = "a: 1\nb:\n  - x\n  - \"y\"\n"
        #expect(try YAML.parse(lf.replacingOccurrences(of: "\n", with: "\r\n")) == YAML.parse(lf))
    }

    @Test("parse refuses a text with several documents, naming the count")
    func parseWantsOneDocument() {
        let error = #expect(throws: YAMLError.self) { try YAML.parse("a: 1\n---\nb: 2\n") }
        #expect(error?.problem == "expected one document, found 2")
    }

    @Test("anchors and aliases are resolved, and merge keys fill in keys the mapping lacks")
    func anchorsAndAliases() throws {
        let value = try YAML.parse(
            """
            defaults: &defaults
              region: eu
              maxDelay: 6h
            tags: &tags [a, b]
            jobs:
              - <<: *defaults
                name: first
                maxDelay: 2h
              - name: second
                labels: *tags
                <<: *defaults
            original:
              &k name: value
            copied:
              *k : again
            """
        )
        #expect(
            value["jobs"]?[0]
                == .mapping([("name", .string("first")), ("maxDelay", .string("2h")), ("region", .string("eu"))])
        )
        #expect(value["jobs"]?[1]?["labels"] == .sequence([.string("a"), .string("b")]))
        #expect(value["jobs"]?[1]?["maxDelay"] == .string("6h"))
        #expect(value["copied"] == .mapping([("name", .string("again"))]))
    }

    @Test("a kubeconfig decodes into Codable types through JSON")
    func kubeconfigDecodes() throws {
        let config = try YAML.decode(Kubeconfig.self, from: Fixtures.kubeconfig, file: "kubeconfig")
        #expect(config.currentContext == "kind-karbonetes")
        #expect(config.clusters.first?.cluster.server == "https://127.0.0.1:40123")
        #expect(config.clusters.first?.cluster.certificateAuthorityData?.hasPrefix("LS0tLS1CRUdJTi") == true)
        #expect(config.contexts.first?.context.namespace == "batch")
        #expect(config.users.first?.user.token == "0123456789abcdef")
        #expect(config.clusters.last?.cluster.insecureSkipTLSVerify == true)
    }

    @Test("a kubeconfig read from a file decodes, and a type mismatch names the file and the path")
    func decodingErrorNamesPath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "karbonetes-yaml-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("config")
        try Fixtures.kubeconfig.write(to: good, atomically: true, encoding: .utf8)
        #expect(try YAML.decode(Kubeconfig.self, contentsOfFile: good.path).clusters.count == 2)

        let bad = directory.appendingPathComponent("bad-config")
        try "clusters:\n- name: x\n  cluster:\n    server: [not, a, string]\ncontexts: []\nusers: []\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        let error = #expect(throws: YAMLError.self) { try YAML.decode(Kubeconfig.self, contentsOfFile: bad.path) }
        #expect(error?.file == bad.path)
        #expect(error?.description.hasPrefix("\(bad.path): at clusters[0].cluster.server: expected String") == true)

        let missing = #expect(throws: YAMLError.self) {
            try YAML.decode(Kubeconfig.self, contentsOfFile: directory.path + "/absent")
        }
        #expect(missing?.description.hasPrefix(directory.path + "/absent: cannot read the file") == true)
    }

    @Test("jsonData keeps key order, escapes strings and spells numbers as JSON")
    func jsonShape() throws {
        let json = try YAML.jsonData(from: "b: 1\na: \"x\\\"y\\n\"\nc: [1.5, true, null, ~, 2e3]\n")
        #expect(String(decoding: json, as: UTF8.self) == #"{"b":1,"a":"x\"y\n","c":[1.5,true,null,null,2000]}"#)
        let error = #expect(throws: YAMLError.self) { try YAML.jsonData(from: "x: .nan\n") }
        #expect(error?.problem == "the number nan has no JSON representation")
    }
}

/// The parts of a kubeconfig the Kubernetes client reads.
struct Kubeconfig: Decodable {
    struct NamedCluster: Decodable {
        var name: String
        var cluster: Cluster
    }

    struct Cluster: Decodable {
        var server: String
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    struct NamedContext: Decodable {
        var name: String
        var context: Context
    }

    struct Context: Decodable {
        var cluster: String
        var user: String
        var namespace: String?
    }

    struct NamedUser: Decodable {
        var name: String
        var user: User
    }

    struct User: Decodable {
        var token: String?
        var clientCertificateData: String?

        enum CodingKeys: String, CodingKey {
            case token
            case clientCertificateData = "client-certificate-data"
        }
    }

    var clusters: [NamedCluster]
    var contexts: [NamedContext]
    var users: [NamedUser]
    var currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, contexts, users
        case currentContext = "current-context"
    }
}
