using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>
/// Builds a <see cref="CloudInventory"/> from any subset of OVN northbound and southbound tables, as dumped by
/// <c>ovn-nbctl --format=json list TABLE</c> and <c>ovn-sbctl --format=json list TABLE</c>. Whatever tables are
/// missing simply leave their facts unknown. Table and column meanings: ovn-nb(5), ovn-sb(5).
/// </summary>
public sealed class OvnInventoryReader
{
    /// <summary>The northbound tables the reader uses.</summary>
    public static IReadOnlyList<string> NorthboundTables { get; } =
        ["Logical_Router", "Logical_Router_Port", "NAT", "Gateway_Chassis", "HA_Chassis_Group", "HA_Chassis"];

    /// <summary>The southbound tables the reader uses (SB Gateway_Chassis only exists in OVN before 20.06).</summary>
    public static IReadOnlyList<string> SouthboundTables { get; } =
        ["Chassis", "Encap", "Datapath_Binding", "Port_Binding", "HA_Chassis_Group", "HA_Chassis", "Gateway_Chassis"];

    private readonly Dictionary<(OvnDatabase Db, string Table), OvsdbTable> _tables = new();
    private readonly List<string> _warnings = new();

    public IReadOnlyCollection<OvsdbTable> Tables => _tables.Values;

    /// <summary>Whether the reader uses this table (any other table is ignored by <see cref="AddDirectory"/>).</summary>
    public static bool IsKnownTable(OvnDatabase database, string table) => database switch
    {
        OvnDatabase.Northbound => NorthboundTables.Contains(table),
        OvnDatabase.Southbound => SouthboundTables.Contains(table),
        _ => NorthboundTables.Contains(table) || SouthboundTables.Contains(table),
    };

    /// <summary>Adds one table. With <see cref="OvnDatabase.Unknown"/> the database is told from the table name and columns.</summary>
    public void Add(OvsdbTable table, OvnDatabase database = OvnDatabase.Unknown)
    {
        if (database == OvnDatabase.Unknown)
        {
            database = GuessDatabase(table);
            if (database == OvnDatabase.Unknown)
            {
                _warnings.Add($"{table.Source}: cannot tell whether {table.Name} is a northbound or southbound table; ignored");
                return;
            }
        }

        if (_tables.ContainsKey((database, table.Name)))
        {
            _warnings.Add($"{table.Source}: {Db(database)} {table.Name} given twice; the last one is used");
        }

        _tables[(database, table.Name)] = table;
    }

    /// <summary>Reads one dump file; the database and table come from its name (<c>nb-NAT.json</c>, <c>sb-Chassis.json</c>, <c>NAT.json</c>).</summary>
    public void AddFile(string path)
    {
        OvsdbDumpName name = OvsdbDumpName.Parse(path);
        if (IsEmptyFile(path))
        {
            _warnings.Add($"{path}: empty (the table was not dumped?); ignored");
            return;
        }

        Add(OvsdbTable.Load(path, name.Table), name.Database);
    }

    /// <summary>
    /// Reads every dump of a known table in a directory (<c>nb-&lt;Table&gt;.json</c>, <c>sb-&lt;Table&gt;.json</c>,
    /// <c>&lt;Table&gt;.json</c>); other files are ignored. Returns the number of tables read.
    /// </summary>
    public int AddDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new InventoryException($"{directory}: no such directory");
        }

        int count = 0;
        foreach (string path in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            OvsdbDumpName name = OvsdbDumpName.Parse(path);
            if (!IsKnownTable(name.Database, name.Table))
            {
                continue;
            }

            AddFile(path);
            count++;
        }

        return count;
    }

    public static CloudInventory ReadDirectory(string directory)
    {
        var reader = new OvnInventoryReader();
        if (reader.AddDirectory(directory) == 0)
        {
            throw new InventoryException($"{directory}: no OVN table dump in it (expected files like nb-Logical_Router_Port.json or sb-Port_Binding.json)");
        }

        return reader.Build();
    }

    public static CloudInventory ReadFiles(IEnumerable<string> paths)
    {
        var reader = new OvnInventoryReader();
        foreach (string path in paths)
        {
            reader.AddFile(path);
        }

        return reader.Build();
    }

    private static bool IsEmptyFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 64)
            {
                return false;
            }

            return File.ReadAllText(path).Trim().Length == 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static OvnDatabase GuessDatabase(OvsdbTable table) => table.Name switch
    {
        "Logical_Router" or "Logical_Router_Port" or "NAT" or "Logical_Switch" or "Logical_Switch_Port" => OvnDatabase.Northbound,
        "Chassis" or "Chassis_Private" or "Encap" or "Port_Binding" or "Datapath_Binding" => OvnDatabase.Southbound,
        "Gateway_Chassis" or "HA_Chassis" => table.HasColumn("chassis_name") ? OvnDatabase.Northbound
            : table.HasColumn("chassis") ? OvnDatabase.Southbound : OvnDatabase.Unknown,
        "HA_Chassis_Group" => table.HasColumn("ref_chassis") ? OvnDatabase.Southbound
            : table.HasColumn("ha_chassis") ? OvnDatabase.Northbound : OvnDatabase.Unknown,
        _ => OvnDatabase.Unknown,
    };

    private static string Db(OvnDatabase db) => db == OvnDatabase.Northbound ? "NB" : "SB";

    private static string Tool(OvnDatabase db) => db == OvnDatabase.Northbound ? "ovn-nbctl" : "ovn-sbctl";

    private OvsdbTable? Nb(string name) => _tables.GetValueOrDefault((OvnDatabase.Northbound, name));

    private OvsdbTable? Sb(string name) => _tables.GetValueOrDefault((OvnDatabase.Southbound, name));

    /// <summary>Correlates the tables added so far. Throws <see cref="InventoryException"/> when a cell has the wrong type.</summary>
    public CloudInventory Build() => new Builder(this).Run();

    /// <summary>
    /// Parses one Port_Binding nat_addresses entry: "MAC IP... [is_chassis_resident(\"PORT\")]" (ovn-sb(5),
    /// Port_Binding nat_addresses: the addresses the gateway or the FIP's chassis announces with GARPs).
    /// </summary>
    internal static bool TryParseNatAddresses(string entry, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? mac,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out List<string>? ips, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? resident)
    {
        mac = null;
        ips = null;
        resident = null;
        int cut = entry.IndexOf("is_chassis_resident(", StringComparison.Ordinal);
        if (cut < 0)
        {
            return false;
        }

        string[] head = entry[..cut].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string tail = entry[(cut + "is_chassis_resident(".Length)..];
        int close = tail.IndexOf(')');
        if (head.Length < 2 || close < 0 || !MacAddress.TryParse(head[0], out _))
        {
            return false;
        }

        resident = tail[..close].Trim().Trim('"');
        mac = head[0];
        ips = head.Skip(1).ToList();
        return resident.Length > 0;
    }

    /// <summary>One pass over the tables; all state of a build lives here.</summary>
    private sealed class Builder
    {
        private readonly OvnInventoryReader _r;
        private readonly CloudInventory _inv = new();
        private readonly Dictionary<string, NodeInfo> _nodesByChassis = new(StringComparer.Ordinal);
        private readonly Dictionary<Guid, string> _chassisNameByUuid = new();
        private readonly Dictionary<Guid, (int Key, string Name)> _datapaths = new();
        private readonly Dictionary<string, int> _datapathKeyByName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _portChassis = new(StringComparer.Ordinal);
        private readonly Dictionary<string, GatewayPortInfo> _gatewaysByPort = new(StringComparer.Ordinal);
        private readonly Dictionary<Guid, string> _lrpNameByUuid = new();
        private readonly Dictionary<GatewayPortInfo, List<string>> _gatewayTables = new();
        private readonly List<(string Mac, List<string> Ips, string Resident, OvsdbTable Table)> _natAddresses = new();

        public Builder(OvnInventoryReader reader) => _r = reader;

        public CloudInventory Run()
        {
            foreach (((OvnDatabase db, string name), OvsdbTable table) in _r._tables.OrderBy(t => t.Key.Db).ThenBy(t => t.Key.Table, StringComparer.Ordinal))
            {
                _inv.Inputs.Add($"{Tool(db)} list {name} ({table.Source})");
            }

            ReadChassis();
            ReadEncaps();
            ReadDatapaths();
            ReadNorthboundGateways();
            ReadPortBindings();
            ReadNat();
            Finish();
            _inv.Warnings.InsertRange(0, _r._warnings);
            return _inv;
        }

        private NodeInfo NodeForChassis(string chassisName, FactSource source)
        {
            if (!_nodesByChassis.TryGetValue(chassisName, out NodeInfo? node))
            {
                node = new NodeInfo { Name = chassisName, Chassis = chassisName, Source = source };
                _nodesByChassis.Add(chassisName, node);
                _inv.Nodes.Add(node);
            }

            return node;
        }

        private string NodeName(string chassisName) => _nodesByChassis.TryGetValue(chassisName, out NodeInfo? n) ? n.Name : chassisName;

        private static FactSource Source(string kind, OvsdbTable table) => new(kind, table.Source);

        private void ReadChassis()
        {
            if (_r.Sb("Chassis") is not { } table)
            {
                return;
            }

            foreach (OvsdbRow row in table.Rows)
            {
                string? name = row.GetNonEmptyString("name");
                if (name is null)
                {
                    _inv.Warnings.Add($"{table.Source}: row {row.Number} has no chassis name; ignored");
                    continue;
                }

                NodeInfo node = NodeForChassis(name, Source("ovn-sbctl Chassis", table));
                node.Source = Source("ovn-sbctl Chassis", table);
                if (row.GetNonEmptyString("hostname") is { } hostname)
                {
                    node.Hostname = hostname;
                    node.Name = hostname;
                }

                if (row.Uuid is Guid uuid)
                {
                    _chassisNameByUuid[uuid] = name;
                }
            }
        }

        private void ReadEncaps()
        {
            if (_r.Sb("Encap") is not { } table)
            {
                return;
            }

            // Encap.chassis_name is the chassis's name (ovn-sb(5) Encap table); Chassis.encaps points back.
            Dictionary<Guid, string> chassisByEncap = new();
            if (_r.Sb("Chassis") is { } chassisTable)
            {
                foreach (OvsdbRow c in chassisTable.Rows)
                {
                    if (c.GetNonEmptyString("name") is { } n)
                    {
                        foreach (Guid e in c.GetUuidSet("encaps"))
                        {
                            chassisByEncap[e] = n;
                        }
                    }
                }
            }

            foreach (OvsdbRow row in table.Rows)
            {
                string? chassis = row.GetNonEmptyString("chassis_name")
                    ?? (row.Uuid is Guid u && chassisByEncap.TryGetValue(u, out string? byRef) ? byRef : null);
                string? ip = row.GetNonEmptyString("ip");
                if (chassis is null || ip is null)
                {
                    _inv.Warnings.Add($"{table.Source}: row {row.Number} has no chassis_name or ip; ignored");
                    continue;
                }

                NodeInfo node = NodeForChassis(chassis, Source("ovn-sbctl Encap", table));
                if (!node.EncapIps.Contains(ip))
                {
                    node.EncapIps.Add(ip);
                }
            }
        }

        private void ReadDatapaths()
        {
            if (_r.Sb("Datapath_Binding") is not { } table)
            {
                return;
            }

            foreach (OvsdbRow row in table.Rows)
            {
                if (row.GetInteger("tunnel_key") is not long key || row.Uuid is not Guid uuid)
                {
                    _inv.Warnings.Add($"{table.Source}: row {row.Number} has no tunnel_key or _uuid; ignored");
                    continue;
                }

                IReadOnlyDictionary<string, string> ids = row.GetStringMap("external_ids");
                // northd sets external_ids:name to the NB name and name2 to the CMS's own name (e.g. neutron's).
                string name = ids.GetValueOrDefault("name") is { Length: > 0 } n ? n
                    : ids.GetValueOrDefault("name2") is { Length: > 0 } n2 ? n2
                    : $"datapath {key}";
                _datapaths[uuid] = ((int)key, name);
                _datapathKeyByName.TryAdd(name, (int)key);
                _inv.TunnelKeys.Add(new TunnelKeyInfo((int)key, null, name));
            }
        }

        private void ReadNorthboundGateways()
        {
            if (_r.Nb("Logical_Router_Port") is not { } lrpTable)
            {
                return;
            }

            Dictionary<Guid, string> routerByPort = new();
            if (_r.Nb("Logical_Router") is { } lrTable)
            {
                foreach (OvsdbRow lr in lrTable.Rows)
                {
                    string name = lr.GetNonEmptyString("name") ?? lr.Uuid?.ToString() ?? $"router {lr.Number}";
                    foreach (Guid p in lr.GetUuidSet("ports"))
                    {
                        routerByPort[p] = name;
                    }
                }
            }

            Dictionary<Guid, (string Chassis, int Priority)> gatewayChassis = ChassisPriorities(_r.Nb("Gateway_Chassis"), "chassis_name", byUuid: false);
            Dictionary<Guid, (string Chassis, int Priority)> haChassis = ChassisPriorities(_r.Nb("HA_Chassis"), "chassis_name", byUuid: false);
            Dictionary<Guid, IReadOnlyList<Guid>> haGroups = Groups(_r.Nb("HA_Chassis_Group"));

            foreach (OvsdbRow row in lrpTable.Rows)
            {
                string? name = row.GetNonEmptyString("name");
                if (name is null)
                {
                    continue;
                }

                if (row.Uuid is Guid lrpUuid)
                {
                    _lrpNameByUuid[lrpUuid] = name;
                }

                IReadOnlyList<Guid> gcRefs = row.GetUuidSet("gateway_chassis");
                IReadOnlyList<Guid> haRefs = row.GetUuidSet("ha_chassis_group");
                string? redirectChassis = row.GetStringMap("options").GetValueOrDefault("redirect-chassis");
                if (gcRefs.Count == 0 && haRefs.Count == 0 && string.IsNullOrEmpty(redirectChassis))
                {
                    continue;
                }

                var gw = new GatewayPortInfo { Port = name, ChassisRedirectPort = "cr-" + name };
                Used(gw, lrpTable);
                if (row.Uuid is Guid u && routerByPort.TryGetValue(u, out string? router))
                {
                    gw.Router = router;
                    Used(gw, _r.Nb("Logical_Router")!);
                }

                if (row.GetNonEmptyString("mac") is { } macText)
                {
                    if (MacAddress.TryParse(macText, out MacAddress mac))
                    {
                        gw.Mac = mac;
                    }
                    else
                    {
                        _inv.Warnings.Add($"{lrpTable.Source}: {name}: '{InventoryText.Clip(macText)}' is not a MAC address");
                    }
                }

                gw.Networks.AddRange(row.GetStringSet("networks"));

                foreach (Guid g in gcRefs)
                {
                    if (gatewayChassis.TryGetValue(g, out var c))
                    {
                        AddCandidate(gw, c.Chassis, c.Priority, _r.Nb("Gateway_Chassis")!);
                    }
                    else if (_r.Nb("Gateway_Chassis") is { } gcTable)
                    {
                        _inv.Warnings.Add($"{gcTable.Source}: {name} refers to Gateway_Chassis {g} which is not in the dump");
                    }
                }

                foreach (Guid groupRef in haRefs)
                {
                    if (haGroups.TryGetValue(groupRef, out IReadOnlyList<Guid>? members))
                    {
                        Used(gw, _r.Nb("HA_Chassis_Group")!);
                        foreach (Guid m in members)
                        {
                            if (haChassis.TryGetValue(m, out var c))
                            {
                                AddCandidate(gw, c.Chassis, c.Priority, _r.Nb("HA_Chassis")!);
                            }
                        }
                    }
                }

                if (gw.Candidates.Count == 0 && !string.IsNullOrEmpty(redirectChassis))
                {
                    // Legacy options:redirect-chassis (before Gateway_Chassis): a single chassis, no priority.
                    AddCandidate(gw, redirectChassis, 0, lrpTable);
                }

                if (gw.Router is { } r && _datapathKeyByName.TryGetValue(r, out int dpKey))
                {
                    gw.DatapathKey = dpKey;
                }

                _gatewaysByPort[name] = gw;
                _inv.GatewayPorts.Add(gw);
            }
        }

        private void AddCandidate(GatewayPortInfo gw, string chassis, int priority, OvsdbTable table)
        {
            NodeForChassis(chassis, Source($"{Tool(OvnDatabase.Northbound)} {table.Name}", table));
            // Names are resolved to node names in Finish(), once every chassis's hostname is known.
            gw.Candidates.RemoveAll(c => c.Node == chassis);
            gw.Candidates.Add(new GatewayChassisPriority(chassis, priority));
            Used(gw, table);
        }

        private Dictionary<Guid, (string Chassis, int Priority)> ChassisPriorities(OvsdbTable? table, string chassisColumn, bool byUuid)
        {
            var result = new Dictionary<Guid, (string, int)>();
            if (table is null)
            {
                return result;
            }

            foreach (OvsdbRow row in table.Rows)
            {
                string? chassis = byUuid
                    ? (row.GetUuid(chassisColumn) is Guid c && _chassisNameByUuid.TryGetValue(c, out string? n) ? n : null)
                    : row.GetNonEmptyString(chassisColumn);
                if (row.Uuid is not Guid uuid || chassis is null)
                {
                    if (byUuid && row.GetUuid(chassisColumn) is Guid missing)
                    {
                        _inv.Warnings.Add($"{table.Source}: row {row.Number} refers to chassis {missing} which is not in the Chassis dump");
                    }

                    continue;
                }

                result[uuid] = (chassis, (int)(row.GetInteger("priority") ?? 0));
            }

            return result;
        }

        private static Dictionary<Guid, IReadOnlyList<Guid>> Groups(OvsdbTable? table)
        {
            var result = new Dictionary<Guid, IReadOnlyList<Guid>>();
            if (table is null)
            {
                return result;
            }

            foreach (OvsdbRow row in table.Rows)
            {
                if (row.Uuid is Guid uuid)
                {
                    result[uuid] = row.GetUuidSet("ha_chassis");
                }
            }

            return result;
        }

        private void ReadPortBindings()
        {
            if (_r.Sb("Port_Binding") is not { } table)
            {
                return;
            }

            Dictionary<Guid, (string Chassis, int Priority)> sbHaChassis = ChassisPriorities(_r.Sb("HA_Chassis"), "chassis", byUuid: true);
            Dictionary<Guid, IReadOnlyList<Guid>> sbHaGroups = Groups(_r.Sb("HA_Chassis_Group"));
            Dictionary<Guid, (string Chassis, int Priority)> sbGatewayChassis = ChassisPriorities(_r.Sb("Gateway_Chassis"), "chassis", byUuid: true);

            foreach (OvsdbRow row in table.Rows)
            {
                string? port = row.GetNonEmptyString("logical_port");
                if (port is null)
                {
                    continue;
                }

                (int Key, string Name)? datapath = row.GetUuid("datapath") is Guid dp && _datapaths.TryGetValue(dp, out var d) ? d : null;
                long? portKey = row.GetInteger("tunnel_key");
                if (datapath is { } dpInfo && portKey is long pk)
                {
                    _inv.TunnelKeys.Add(new TunnelKeyInfo(dpInfo.Key, (int)pk, port));
                }

                string? chassis = null;
                if (row.GetUuid("chassis") is Guid chassisUuid)
                {
                    if (_chassisNameByUuid.TryGetValue(chassisUuid, out string? cn))
                    {
                        chassis = cn;
                        _portChassis[port] = cn;
                    }
                    else if (_r.Sb("Chassis") is not null)
                    {
                        _inv.Warnings.Add($"{table.Source}: {port} is bound to chassis {chassisUuid} which is not in the Chassis dump");
                    }
                }

                foreach (string entry in row.GetStringSet("nat_addresses"))
                {
                    if (TryParseNatAddresses(entry, out string? mac, out List<string>? ips, out string? resident))
                    {
                        _natAddresses.Add((mac, ips, resident, table));
                    }
                }

                if (!string.Equals(row.GetString("type"), "chassisredirect", StringComparison.Ordinal))
                {
                    continue;
                }

                // ovn-sb(5): a chassisredirect port's options:distributed-port names the logical router port it stands for.
                string lrp = row.GetStringMap("options").GetValueOrDefault("distributed-port") is { Length: > 0 } dport ? dport
                    : port.StartsWith("cr-", StringComparison.Ordinal) ? port[3..] : port;
                if (!_gatewaysByPort.TryGetValue(lrp, out GatewayPortInfo? gw))
                {
                    gw = new GatewayPortInfo { Port = lrp };
                    _gatewaysByPort[lrp] = gw;
                    _inv.GatewayPorts.Add(gw);
                }

                Used(gw, table);
                gw.ChassisRedirectPort = port;
                gw.PortKey = portKey is long k ? (int)k : gw.PortKey;
                if (datapath is { } dpi)
                {
                    gw.DatapathKey = dpi.Key;
                    gw.Router ??= dpi.Name;
                    Used(gw, _r.Sb("Datapath_Binding")!);
                }

                gw.ActiveNode = chassis;

                // Port_Binding.mac of a cr port: "MAC CIDR..." as on the router port.
                IReadOnlyList<string> macColumn = row.GetStringSet("mac");
                if (macColumn.Count > 0)
                {
                    string[] parts = macColumn[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (gw.Mac.IsZero && parts.Length > 0 && MacAddress.TryParse(parts[0], out MacAddress mac))
                    {
                        gw.Mac = mac;
                    }

                    if (gw.Networks.Count == 0)
                    {
                        gw.Networks.AddRange(parts.Skip(1));
                    }
                }

                if (gw.Candidates.Count == 0)
                {
                    if (row.GetUuid("ha_chassis_group") is Guid group && sbHaGroups.TryGetValue(group, out IReadOnlyList<Guid>? members))
                    {
                        foreach (Guid m in members)
                        {
                            if (sbHaChassis.TryGetValue(m, out var c))
                            {
                                gw.Candidates.Add(new GatewayChassisPriority(c.Chassis, c.Priority));
                                Used(gw, _r.Sb("HA_Chassis")!);
                            }
                        }
                    }

                    foreach (Guid g in row.GetUuidSet("gateway_chassis"))
                    {
                        if (sbGatewayChassis.TryGetValue(g, out var c))
                        {
                            gw.Candidates.Add(new GatewayChassisPriority(c.Chassis, c.Priority));
                            Used(gw, _r.Sb("Gateway_Chassis")!);
                        }
                    }
                }
            }
        }

        private void ReadNat()
        {
            OvsdbTable? natTable = _r.Nb("NAT");
            if (natTable is null)
            {
                NatFromPortBindings();
                return;
            }

            Dictionary<Guid, string> routerByNat = new();
            if (_r.Nb("Logical_Router") is { } lrTable)
            {
                foreach (OvsdbRow lr in lrTable.Rows)
                {
                    string name = lr.GetNonEmptyString("name") ?? $"router {lr.Number}";
                    foreach (Guid n in lr.GetUuidSet("nat"))
                    {
                        routerByNat[n] = name;
                    }
                }
            }

            foreach (OvsdbRow row in natTable.Rows)
            {
                string? type = row.GetNonEmptyString("type");
                string? externalIp = row.GetNonEmptyString("external_ip");
                if (type is null || externalIp is null)
                {
                    _inv.Warnings.Add($"{natTable.Source}: row {row.Number} has no type or external_ip; ignored");
                    continue;
                }

                string? router = row.Uuid is Guid u && routerByNat.TryGetValue(u, out string? rn) ? rn : null;
                string? logicalPort = row.GetNonEmptyString("logical_port");
                string? externalMac = row.GetNonEmptyString("external_mac");

                // ovn-nb(5) NAT: dnat_and_snat with logical_port and external_mac is handled on the chassis of
                // logical_port (distributed); everything else is handled on the gateway chassis.
                if (type == "dnat_and_snat" && logicalPort is not null && externalMac is not null)
                {
                    if (!MacAddress.TryParse(externalMac, out MacAddress mac))
                    {
                        _inv.Warnings.Add($"{natTable.Source}: NAT {externalIp}: external_mac '{InventoryText.Clip(externalMac)}' is not a MAC address");
                        continue;
                    }

                    var fip = new FloatingIpInfo
                    {
                        ExternalIp = externalIp,
                        ExternalMac = mac,
                        LogicalIp = row.GetNonEmptyString("logical_ip"),
                        LogicalPort = logicalPort,
                        Node = _portChassis.GetValueOrDefault(logicalPort),
                        Router = router,
                        Source = new FactSource("ovn", Describe([natTable, .. _portChassis.ContainsKey(logicalPort) ? new[] { _r.Sb("Port_Binding")! } : []])),
                    };
                    _inv.DistributedFloatingIps.Add(fip);
                    continue;
                }

                List<GatewayPortInfo> targets;
                if (row.GetUuid("gateway_port") is Guid gp && _lrpNameByUuid.TryGetValue(gp, out string? gpName) && _gatewaysByPort.TryGetValue(gpName, out GatewayPortInfo? one))
                {
                    targets = [one];
                }
                else if (router is not null)
                {
                    targets = _inv.GatewayPorts.FindAll(g => g.Router == router);
                }
                else
                {
                    targets = _inv.GatewayPorts.Count == 1 ? [.. _inv.GatewayPorts] : [];
                }

                if (targets.Count == 0)
                {
                    _inv.Warnings.Add($"{natTable.Source}: {type} {externalIp}: no gateway port known for its router {router ?? "(Logical_Router not dumped)"}");
                    continue;
                }

                foreach (GatewayPortInfo gw in targets)
                {
                    AddUnique(gw.NatExternalIps, externalIp);
                    Used(gw, natTable);
                }
            }
        }

        private void NatFromPortBindings()
        {
            foreach ((string macText, List<string> ips, string resident, OvsdbTable table) in _natAddresses)
            {
                MacAddress mac = MacAddress.Parse(macText);
                if (_inv.FindGatewayPortByName(resident) is { } gw)
                {
                    foreach (string ip in ips)
                    {
                        AddUnique(gw.NatExternalIps, ip);
                    }

                    Used(gw, table);
                    continue;
                }

                foreach (string ip in ips)
                {
                    if (_inv.FindFloatingIpByAddress(ip) is null)
                    {
                        _inv.DistributedFloatingIps.Add(new FloatingIpInfo
                        {
                            ExternalIp = ip,
                            ExternalMac = mac,
                            LogicalPort = resident,
                            Node = _portChassis.GetValueOrDefault(resident),
                            Source = new FactSource("ovn", Describe([table]) + " nat_addresses"),
                        });
                    }
                }
            }
        }

        private void Used(GatewayPortInfo gw, OvsdbTable table)
        {
            if (!_gatewayTables.TryGetValue(gw, out List<string>? list))
            {
                list = new List<string>();
                _gatewayTables.Add(gw, list);
            }

            if (!list.Contains(table.Source))
            {
                list.Add(table.Source);
            }
        }

        private static void AddUnique(List<string> list, string value)
        {
            if (!list.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(value);
            }
        }

        /// <summary>"nb-NAT.json+sb-Port_Binding.json in DIR" when the sources share a directory, else the paths joined.</summary>
        internal static string Describe(IEnumerable<string> sources)
        {
            List<string> list = sources.Distinct(StringComparer.Ordinal).ToList();
            if (list.Count == 0)
            {
                return string.Empty;
            }

            string? dir = Path.GetDirectoryName(list[0]);
            if (!string.IsNullOrEmpty(dir) && list.All(s => Path.GetDirectoryName(s) == dir))
            {
                return string.Join('+', list.Select(Path.GetFileName)) + " in " + dir;
            }

            return string.Join(", ", list);
        }

        private static string Describe(IEnumerable<OvsdbTable> tables) => Describe(tables.Select(t => t.Source));

        private void Finish()
        {
            foreach (GatewayPortInfo gw in _inv.GatewayPorts)
            {
                for (int i = 0; i < gw.Candidates.Count; i++)
                {
                    gw.Candidates[i] = gw.Candidates[i] with { Node = NodeName(gw.Candidates[i].Node) };
                }

                gw.Candidates.Sort(static (a, b) => b.Priority != a.Priority ? b.Priority.CompareTo(a.Priority) : string.CompareOrdinal(a.Node, b.Node));
                if (gw.ActiveNode is { } active)
                {
                    gw.ActiveNode = NodeName(active);
                }

                gw.Network ??= gw.Router;
                gw.Source = new FactSource("ovn", _gatewayTables.TryGetValue(gw, out List<string>? used) ? Describe(used) : null);
            }

            foreach (FloatingIpInfo fip in _inv.DistributedFloatingIps)
            {
                if (fip.Node is { } n)
                {
                    fip.Node = NodeName(n);
                }
            }

            _inv.Nodes.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            _inv.GatewayPorts.Sort(static (a, b) => string.CompareOrdinal(a.Router + "\0" + a.Port, b.Router + "\0" + b.Port));
            _inv.DistributedFloatingIps.Sort(static (a, b) => string.CompareOrdinal(a.ExternalIp, b.ExternalIp));
            _inv.TunnelKeys.Sort(static (a, b) => a.DatapathKey != b.DatapathKey ? a.DatapathKey.CompareTo(b.DatapathKey)
                : (a.PortKey ?? -1).CompareTo(b.PortKey ?? -1));
        }
    }
}
