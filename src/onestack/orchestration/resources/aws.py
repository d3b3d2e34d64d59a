"""The CloudFormation autoscaling types Heat accepts: ``AWS::AutoScaling::LaunchConfiguration``
(no resource of its own: the properties a group's members are made from, found by its
reference), ``AWS::AutoScaling::AutoScalingGroup`` (an ``OS::Heat::AutoScalingGroup`` whose
members are ``AWS::EC2::Instance`` resources built from its launch configuration),
``AWS::AutoScaling::ScalingPolicy`` and ``AWS::EC2::Instance`` (a Nova server)."""

from __future__ import annotations

import contextlib
import re
import secrets
from typing import Any

from onestack.common import errors
from onestack.compute.facade import ComputeAPI
from onestack.orchestration.errors import ResourceFailure, StackValidationFailed, not_allowed
from onestack.orchestration.resources import rolling
from onestack.orchestration.resources.autoscaling import AutoScalingGroup, ScalingPolicy
from onestack.orchestration.resources.base import Checking, Context, Created, Plugin, Prop
from onestack.orchestration.resources.cinder import wait_status
from onestack.orchestration.resources.nova import Server, ServerFailed
from onestack.orchestration.resources.stacks import literal_int, nested_engine

# Properties Heat declares that OneStack refuses with a clear 400 rather than ignores.
_NOT_YET = ("LoadBalancerNames", "BlockDeviceMappings", "PrivateIpAddress")
_NOT_IMPLEMENTED = {"KernelId", "RamDiskId", "HealthCheckGracePeriod", "HealthCheckType",
                    "DisableApiTermination", "Monitoring", "PlacementGroupName",
                    "SourceDestCheck", "Tenancy"}  # fmt: skip
_WAIT = {"error", "error_attaching", "error_detaching"}  # a volume's failed (de)attach


def _unsupported(props: dict[str, Any], path: str) -> str:
    for name in _NOT_YET:
        if props.get(name):
            return f"{path}.{name}: {name} is not supported yet"
    volumes, nics = props.get("Volumes"), props.get("NetworkInterfaces")
    for index, vol in enumerate(volumes if isinstance(volumes, list) else []):
        if not isinstance(vol, dict) or not vol.get("Device") or not vol.get("VolumeId"):
            return f"{path}.Volumes[{index}]: a volume is a map of Device and VolumeId"
    for index, nic in enumerate(nics if isinstance(nics, list) else []):
        if isinstance(nic, dict) and not (
            nic.get("NetworkInterfaceId") and nic.get("DeviceIndex") is not None
        ):
            return (f"{path}.NetworkInterfaces[{index}]: an interface is a port's id or a map "
                    "of NetworkInterfaceId and DeviceIndex")  # fmt: skip
    return ""


def _nics(value: list[Any]) -> list[dict[str, Any]]:
    """Heat's: the ports in DeviceIndex order (a bare id's index is its place)."""
    nics = [
        n if isinstance(n, dict) else {"NetworkInterfaceId": n, "DeviceIndex": i}
        for i, n in enumerate(value)
    ]
    nics.sort(key=lambda n: int(n["DeviceIndex"]))
    return [{"port": str(n["NetworkInterfaceId"])} for n in nics]


def _tags(value: Any, path: str) -> str:
    if not isinstance(value, list):
        return ""
    for index, tag in enumerate(value):
        if not isinstance(tag, dict) or set(tag) != {"Key", "Value"}:
            return f"{path}.Tags[{index}]: a tag is a map of Key and Value"
    return ""


class Instance(Plugin):
    type_name = "AWS::EC2::Instance"
    description = "An AWS-compatible instance: a Nova server."
    properties = {
        "ImageId": Prop("string", required=True, description="Glance image ID or name."),
        "InstanceType": Prop("string", required=True, update_allowed=True,
                             description="Nova instance type (flavor)."),
        "KeyName": Prop("string", description="Optional Nova keypair name."),
        "AvailabilityZone": Prop("string", description="Availability zone to launch the "
                                 "instance in."),
        "SecurityGroups": Prop("list", description="Security group names to assign."),
        "Tags": Prop("list", update_allowed=True, description="Tags to attach to instance."),
        "NovaSchedulerHints": Prop("list", description="Scheduler hints to pass to Nova (Heat "
                                   "extension)."),
        "UserData": Prop("string", description="User data to pass to instance."),
        "SubnetId": Prop("string", description="Subnet ID to launch instance in."),
        "SecurityGroupIds": Prop("list", description="Security group IDs to assign."),
        "NetworkInterfaces": Prop("list", description="Network interfaces to associate with "
                                  "instance."),
        "Volumes": Prop("list", description="Volumes to attach to instance."),
        **{n: Prop("list" if n == "BlockDeviceMappings" else "string",
                   description="Not supported yet.")
           for n in _NOT_YET if n != "LoadBalancerNames"},
        **{n: Prop("boolean" if n in ("DisableApiTermination", "Monitoring",
                                      "SourceDestCheck") else "string",
                   description="Not Implemented.")
           for n in _NOT_IMPLEMENTED if not n.startswith("Health")},
    }  # fmt: skip
    attributes = {
        "AvailabilityZone": "The Availability Zone where the specified instance is launched.",
        "PrivateDnsName": "Private DNS name of the specified instance.",
        "PublicDnsName": "Public DNS name of the specified instance.",
        "PrivateIp": "Private IP address of the specified instance.",
        "PublicIp": "Public IP address of the specified instance.",
    }

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return (
            super().check_properties(props, path, literal)
            or _unsupported(props, path)
            or _tags(props.get("Tags"), path)
        )

    @staticmethod
    def server_properties(props: dict[str, Any]) -> dict[str, Any]:
        """The OS::Nova::Server the instance is (tags become the server's metadata, as
        Heat's Instance does)."""
        hints = {str(h["Key"]): h["Value"] for h in props.get("NovaSchedulerHints") or []
                 if isinstance(h, dict) and "Key" in h}  # fmt: skip
        out = {
            "image": props["ImageId"],
            "flavor": props["InstanceType"],
            "key_name": props.get("KeyName"),
            "availability_zone": props.get("AvailabilityZone"),
            "security_groups": [
                *(props.get("SecurityGroups") or []),
                *(props.get("SecurityGroupIds") or []),
            ],
            "user_data": props.get("UserData") or "",
            "user_data_format": "RAW",
            "metadata": {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []},
            "scheduler_hints": hints or None,
        }
        return Server.with_defaults(out)

    async def _with_network(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        """The server's properties: on the ``NetworkInterfaces`` ports, else on a port of
        ``SubnetId`` with the security groups (Heat's), else where Nova picks (refused as
        ambiguous where the project has several networks)."""
        out = self.server_properties(props)
        if props.get("NetworkInterfaces"):
            out["networks"] = _nics(list(props["NetworkInterfaces"]))
        elif props.get("SubnetId"):
            out["networks"] = [{"subnet": str(props["SubnetId"])}]
        return out

    @staticmethod
    def _attributes(server: dict[str, Any], zone: str | None) -> dict[str, Any]:
        ip = server.get("first_address") or ""
        return {"AvailabilityZone": zone or "", "PrivateDnsName": ip, "PublicDnsName": ip,
                "PrivateIp": ip, "PublicIp": ip}  # fmt: skip

    async def _zone(self, c: Context, server_id: str) -> str | None:
        try:
            return (
                await c.runtime.service(ComputeAPI).get_server(c.ctx, server_id)
            ).availability_zone
        except errors.NotFound:
            return None

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        problem = _unsupported(props, "properties")
        if problem:
            raise ResourceFailure(problem)
        made = await Server().create(c, await self._with_network(c, props))
        volumes = [(str(v["VolumeId"]), str(v["Device"])) for v in props.get("Volumes") or []]
        compute = c.runtime.service(ComputeAPI)
        try:
            for volume, device in volumes:
                await compute.attach_volume(c.ctx, made.physical_id, volume, device)
                await wait_status(c, volume, "in-use", {*_WAIT, "available"})
        except (ResourceFailure, errors.OneStackError) as exc:
            reason = exc.reason if isinstance(exc, ResourceFailure) else exc.message
            data = {**made.data, "__volumes": [v for v, _d in volumes]}
            raise ServerFailed(made.physical_id, reason, data) from None
        zone = await self._zone(c, made.physical_id)
        data = {**made.data, "__volumes": [v for v, _d in volumes]}
        return Created(made.physical_id, self._attributes(made.attributes, zone), data)

    async def update(
        self, c: Context, physical_id: str, data: dict[str, Any], old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:  # fmt: skip
        attrs = await Server().update(
            c, physical_id, data, await self._with_network(c, old),
            await self._with_network(c, new),
        )  # fmt: skip
        return self._attributes(attrs, await self._zone(c, physical_id))

    async def refresh(
        self, c: Context, physical_id: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        attrs = await Server().refresh(c, physical_id, data) or {}
        return self._attributes(attrs, await self._zone(c, physical_id))

    async def delete(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        """Heat's: the volumes detached first (they outlive the instance), then the server."""
        compute = c.runtime.service(ComputeAPI)
        for volume in data.get("__volumes") or []:
            with contextlib.suppress(errors.NotFound, errors.Conflict, errors.BadRequest):
                await compute.detach_volume(c.ctx, physical_id, str(volume))
                await wait_status(c, str(volume), "available", _WAIT)
        await Server().delete(c, physical_id, data)

    async def suspend(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await Server().suspend(c, physical_id, data)

    async def resume(self, c: Context, physical_id: str, data: dict[str, Any]) -> None:
        await Server().resume(c, physical_id, data)

    async def snapshot(self, c: Context, physical_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return await Server().snapshot(c, physical_id, data)

    async def delete_snapshot(self, c: Context, data: dict[str, Any]) -> None:
        await Server().delete_snapshot(c, data)

    @classmethod
    def restore_properties(
        cls, props: dict[str, Any], snapshot_data: dict[str, Any]
    ) -> dict[str, Any]:
        image = snapshot_data.get("snapshot_image_id")
        return {**props, "ImageId": image} if image else props


_LAUNCH_TO_INSTANCE = ("ImageId", "InstanceType", "KeyName", "UserData", "SecurityGroups",
                       "NovaSchedulerHints", "BlockDeviceMappings")  # fmt: skip


class LaunchConfiguration(Plugin):
    type_name = "AWS::AutoScaling::LaunchConfiguration"
    description = "The properties an AWS autoscaling group's instances are made from."
    properties = {
        "ImageId": Prop("string", description="Glance image ID or name."),
        "InstanceType": Prop("string", description="Nova instance type (flavor)."),
        "InstanceId": Prop("string", description="The ID of an existing instance you want to "
                           "use to create the launch configuration."),
        "KeyName": Prop("string", description="Optional Nova keypair name."),
        "UserData": Prop("string", description="User data to pass to instance."),
        "SecurityGroups": Prop("list", description="Security group names to assign."),
        "KernelId": Prop("string", description="Not Implemented."),
        "RamDiskId": Prop("string", description="Not Implemented."),
        "BlockDeviceMappings": Prop("list", description="Not supported yet."),
        "NovaSchedulerHints": Prop("list", description="Scheduler hints to pass to Nova (Heat "
                                   "extension)."),
    }  # fmt: skip

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        problem = super().check_properties(props, path, literal) or _unsupported(props, path)
        if (
            not problem
            and not props.get("InstanceId")
            and not (props.get("ImageId") and props.get("InstanceType"))
        ):
            problem = f"{path}: If without InstanceId, ImageId and InstanceType are required."
        return problem

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        # Heat's reference to a launch configuration is its physical resource name.
        return Created(f"{c.stack_name}-{c.resource_name}-{secrets.token_hex(6)}")

    @staticmethod
    async def instance_properties(c: Context, props: dict[str, Any]) -> dict[str, Any]:
        """What its instances are made with; an InstanceId's server gives the image and
        flavor the configuration does not name (Heat's rebuild_lc_properties)."""
        out = {k: props[k] for k in _LAUNCH_TO_INSTANCE if props.get(k) is not None}
        if props.get("InstanceId"):
            try:
                info = await c.runtime.service(ComputeAPI).get_server(
                    c.ctx, str(props["InstanceId"])
                )
            except errors.NotFound as exc:
                raise ResourceFailure(exc.message) from None
            out.setdefault("ImageId", info.image_id)
            out.setdefault("InstanceType", info.flavor_name)
        return out


_ADJUSTMENTS = {"ChangeInCapacity": "change_in_capacity", "ExactCapacity": "exact_capacity",
                "PercentChangeInCapacity": "percent_change_in_capacity"}  # fmt: skip
_ROLLING = "AutoScalingRollingUpdate"
_ROLLING_KEYS = {"MinInstancesInService": 0, "MaxBatchSize": 1, "PauseTime": 0}
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def pause_seconds(value: Any, path: str) -> float:
    """An ISO 8601 duration of the form PT#H#M#S (Heat's parse_isoduration), in seconds."""
    found = _DURATION.match(str(value)) if isinstance(value, str) else None
    if found is None or value == "PT":
        raise StackValidationFailed(
            message=f"{path}: Only ISO 8601 duration format of the form PT#H#M#S is supported."
        )
    hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def rolling_settings(value: Any, path: str) -> rolling.Batching:
    if not isinstance(value, dict):
        raise StackValidationFailed(message=f"{path}: must be a map")
    for key in value:
        if key not in _ROLLING_KEYS:
            raise StackValidationFailed(message=f"{path}: Unknown Property {key}")
    numbers = {}
    for key in ("MinInstancesInService", "MaxBatchSize"):
        given = value.get(key, _ROLLING_KEYS[key])
        try:
            number = int(str(given))
        except ValueError:
            raise StackValidationFailed(
                message=f'{path}.{key}: Value "{given}" is invalid for data type "integer".'
            ) from None
        if isinstance(given, bool) or number < _ROLLING_KEYS[key]:
            raise StackValidationFailed(
                message=f"{path}.{key}: {given} is out of range (min: {_ROLLING_KEYS[key]}, "
                "max: None)"
            )
        numbers[key] = number
    pause = pause_seconds(value.get("PauseTime", "PT0S"), f"{path}.PauseTime")
    if pause > rolling.MAX_PAUSE:
        raise StackValidationFailed(
            message=f"{path}: Maximum PauseTime allowed is 1hr(3600s), provided {pause} seconds."
        )
    return rolling.Batching(numbers["MinInstancesInService"], numbers["MaxBatchSize"], pause)


class AWSAutoScalingGroup(AutoScalingGroup):
    type_name = "AWS::AutoScaling::AutoScalingGroup"
    description = "An AWS-compatible autoscaling group of AWS::EC2::Instance resources."
    properties = {
        "AvailabilityZones": Prop("list", required=True, description="Not Implemented."),
        "LaunchConfigurationName": Prop("string", update_allowed=True,
                                        description="The reference to a LaunchConfiguration "
                                        "resource."),
        "InstanceId": Prop("string", description="The ID of an existing instance to use to "
                           "create the Auto Scaling group."),
        "MaxSize": Prop("integer", required=True, update_allowed=True,
                        description="Maximum number of instances in the group."),
        "MinSize": Prop("integer", required=True, update_allowed=True,
                        description="Minimum number of instances in the group."),
        "Cooldown": Prop("number", update_allowed=True, description="Cooldown period, in "
                         "seconds."),
        "DesiredCapacity": Prop("integer", update_allowed=True,
                                description="Desired initial number of instances."),
        "HealthCheckGracePeriod": Prop("integer", description="Not Implemented."),
        "HealthCheckType": Prop("string", description="Not Implemented."),
        "LoadBalancerNames": Prop("list", description="Not supported yet."),
        "VPCZoneIdentifier": Prop("list", description="Use only with Neutron, to list "
                                  "VPC subnet IDs (the first is the members' SubnetId)."),
        "Tags": Prop("list", update_allowed=True, description="Tags to attach to this group."),
    }  # fmt: skip
    attributes = {
        "InstanceList": "A comma-delimited list of server ip addresses. (Heat extension).",
    }

    @classmethod
    def check_properties(cls, props: dict[str, Any], path: str, literal: set[str]) -> str:
        return (
            super().check_properties(props, path, literal)
            or _unsupported(props, path)
            or _tags(props.get("Tags"), path)
        )

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        props = rdef.properties
        path = f"resources.{rdef.name}.properties"
        low = literal_int(props.get("MinSize"), env)
        high = literal_int(props.get("MaxSize"), env)
        want = literal_int(props.get("DesiredCapacity"), env)
        if low is not None and high is not None and high < low:
            raise StackValidationFailed(message=f"{path}: MinSize can not be greater than MaxSize")
        if low is not None and low < 0:
            raise StackValidationFailed(
                message=f"{path}: The size of AutoScalingGroup can not be less than zero"
            )
        if want is not None and (
            (low is not None and want < low) or (high is not None and want > high)
        ):
            raise StackValidationFailed(
                message=f"{path}: DesiredCapacity must be between MinSize and MaxSize"
            )
        config = props.get("LaunchConfigurationName")
        if bool(props.get("InstanceId")) == bool(config):
            raise StackValidationFailed(
                message=f"{path}: Either 'InstanceId' or 'LaunchConfigurationName' must be "
                "provided."
            )
        if isinstance(config, str) and config in env.tmpl.resources:
            raise StackValidationFailed(
                message=f"{path}: LaunchConfigurationName ({config}) requires a reference to "
                "the configuration not just the name of the resource."
            )
        raw = rdef.update_policy
        if isinstance(raw, dict):
            for section, value in raw.items():
                if section != _ROLLING:
                    raise StackValidationFailed(
                        message=f"resources.{rdef.name}.update_policy: Unknown Property {section}"
                    )
                if not _is_call(value, env):
                    rolling_settings(value or {}, f"resources.{rdef.name}.update_policy.{section}")

    @classmethod
    def bounds(cls, props: dict[str, Any]) -> tuple[int, int, int | None]:
        want = props.get("DesiredCapacity")
        return int(props["MinSize"]), int(props["MaxSize"]), None if want is None else int(want)

    async def member(self, c: Context, props: dict[str, Any]) -> dict[str, Any]:
        """Heat's InstanceGroup member: an AWS::EC2::Instance of the launch configuration's
        properties (found by its reference), with the group's tags."""
        if props.get("InstanceId"):
            made = await LaunchConfiguration.instance_properties(
                c, {"InstanceId": props["InstanceId"]}
            )
        else:
            ref = props.get("LaunchConfigurationName")
            store = nested_engine().engine_of(c).store
            found = [r for r in await store.resources(c.stack_id)
                     if r.type == LaunchConfiguration.type_name
                     and r.physical_resource_id == ref]  # fmt: skip
            if not found:
                raise ResourceFailure(f"LaunchConfigurationName ({ref}) reference can not be "
                                      "found.")  # fmt: skip
            made = await LaunchConfiguration.instance_properties(c, found[0].properties or {})
        tags = list(props.get("Tags") or [])
        if tags:
            made["Tags"] = tags
        zones = list(props.get("VPCZoneIdentifier") or [])
        if zones:  # Heat's InstanceGroup: the members go in the first subnet listed
            made["SubnetId"] = str(zones[0])
        return {"type": Instance.type_name, "properties": made}

    async def batching(self, c: Context, props: dict[str, Any]) -> rolling.Batching | None:
        value = await rolling.section_of(c, _ROLLING)
        if value is None:
            return None
        return rolling_settings(value, f"resources.{c.resource_name}.update_policy.{_ROLLING}")

    async def attributes_of(self, c: Context, child: Any) -> dict[str, Any]:
        members = await nested_engine().members(c, child)
        ips = [str(a.get("PublicIp")) for _n, _id, a in members if a.get("PublicIp")]
        return {**await super().attributes_of(c, child), "InstanceList": ",".join(ips) or None}


def _is_call(value: Any, env: Checking) -> bool:
    from onestack.orchestration.template import hot

    return hot._is_call(value, env.tmpl.functions)


class AWSScalingPolicy(ScalingPolicy):
    type_name = "AWS::AutoScaling::ScalingPolicy"
    description = "An AWS-compatible policy that resizes an AWS::AutoScaling::AutoScalingGroup."
    properties = {
        "AutoScalingGroupName": Prop("string", required=True,
                                     description="AutoScaling group name to apply policy to."),
        "ScalingAdjustment": Prop("integer", required=True, update_allowed=True,
                                  description="Size of adjustment."),
        "AdjustmentType": Prop("string", required=True, update_allowed=True,
                               description="Type of adjustment (absolute or percentage)."),
        "Cooldown": Prop("integer", update_allowed=True, description="Cooldown period, in "
                         "seconds."),
        "MinAdjustmentStep": Prop("integer", update_allowed=True,
                                  description="Minimum number of resources that are added or "
                                  "removed when the AutoScaling group scales up or down."),
    }  # fmt: skip
    attributes = {"AlarmUrl": "A signed url to handle the alarm. (Heat extension)."}

    @classmethod
    def check_definition(cls, rdef: Any, env: Checking) -> None:
        kind = rdef.properties.get("AdjustmentType")
        if isinstance(kind, str) and kind not in _ADJUSTMENTS:
            raise StackValidationFailed(
                message=f"Property error: resources.{rdef.name}.properties.AdjustmentType: "
                f"{not_allowed(kind, _ADJUSTMENTS)}"
            )
        step = literal_int(rdef.properties.get("MinAdjustmentStep"), env)
        if step is not None and step < 0:
            raise StackValidationFailed(
                message=f"Property error: resources.{rdef.name}.properties.MinAdjustmentStep: "
                f"{step} is out of range (min: 0, max: None)"
            )

    async def create(self, c: Context, props: dict[str, Any]) -> Created:
        made = await super().create(c, props)
        made.attributes = {"AlarmUrl": made.attributes["alarm_url"]}
        return made

    @classmethod
    def scaling(cls, props: dict[str, Any]) -> tuple[Any, str, float, float, int | None]:
        kind = _ADJUSTMENTS.get(str(props["AdjustmentType"]))
        if kind is None:
            raise StackValidationFailed(message=f"Invalid AdjustmentType {props['AdjustmentType']}")
        return (
            props.get("AutoScalingGroupName"),
            kind,
            float(props["ScalingAdjustment"]),
            float(props.get("Cooldown") or 0),
            props.get("MinAdjustmentStep"),
        )


PLUGINS: tuple[type[Plugin], ...] = (
    Instance,
    LaunchConfiguration,
    AWSAutoScalingGroup,
    AWSScalingPolicy,
)
