#!/usr/bin/env python3
"""moto's server plus the EC2 actions moto 5.2 lacks, for Zygo's AWS tests.

Run it exactly like `moto_server` (same arguments, e.g. `python3 tests/api/moto_extras.py -H
127.0.0.1 -p PORT`): it patches moto in place, then hands over to `moto.server.main`. Works with
moto 5.2.x; nothing is pinned.

What it adds, all on moto's own classes so the state lives in moto's real backends (a replaced
root volume or a new image id shows in DescribeInstances, DescribeVolumes, …):

  EC2 (Query API, Version 2016-11-15, XML in the http://ec2.amazonaws.com/doc/2016-11-15/
  namespace; the answers are rendered by moto's own model-driven EC2 serializer from botocore's
  EC2 model, so element names and casing are AWS's):
    CreateReplaceRootVolumeTask, DescribeReplaceRootVolumeTasks      (ElasticBlockStore/EBSBackend)
    ModifyAddressAttribute, ResetAddressAttribute,
    DescribeAddressesAttribute (moto's own ignores PTR records)  (ElasticIPAddresses/ElasticAddressBackend)

  EC2 Instance Connect (JSON 1.1, X-Amz-Target AWSEC2InstanceConnectService.*):
    SendSerialConsoleSSHPublicKey                                 (Ec2InstanceConnectResponse)

Timing choices (AWS does these asynchronously; this double is deterministic):
  * a root volume replacement is applied to moto's state when the task is created; the task then
    reads "pending" in the create answer and walks one step per DescribeReplaceRootVolumeTasks that
    returns it: in-progress, then succeeded (completeTime set from then on);
  * a PTR change (Modify/ResetAddressAttribute) is applied at once: the answer shows the old
    record plus ptrRecordUpdate {value: new, status: PENDING}; the next DescribeAddressesAttribute
    shows the new record and no pending update.

Errors are moto's usual EC2 error XML (HTTP 400, <Response><Errors><Error><Code>…) and, for
Instance Connect, AWS JSON 1.1 errors ({"__type": …, "Message": …}, HTTP 400).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from typing import Any

import moto.server
from moto import settings
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2 import utils as ec2_utils
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.models.elastic_ip_addresses import ElasticAddress, ElasticAddressBackend
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
from moto.ec2.responses.elastic_ip_addresses import ElasticIPAddresses
from moto.ec2instanceconnect.responses import Ec2InstanceConnectResponse

# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def _aws_time(dt: Any) -> str:
    """ISO 8601 in UTC, as EC2 writes these string-typed times (e.g. 2022-03-14T15:06:38Z)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _missing(name: str) -> EC2ClientError:
    return EC2ClientError("MissingParameter", f"The request must contain the parameter {name}")


def _page(items: list[Any], max_results: Any, next_token: Any) -> tuple[list[Any], str | None]:
    """EC2-style pagination: NextToken is an opaque offset, MaxResults the page size."""
    start = 0
    if next_token:
        try:
            start = int(next_token)
        except ValueError:
            raise EC2ClientError("InvalidNextToken", "The token is invalid.")
    if not max_results:
        return items[start:], None
    end = start + int(max_results)
    return items[start:end], (str(end) if end < len(items) else None)


# ---------------------------------------------------------------------------------------------
# 1-2. Root volume replacement: CreateReplaceRootVolumeTask / DescribeReplaceRootVolumeTasks
# ---------------------------------------------------------------------------------------------

# The task's id prefix, made known to moto's EC2 tag helpers so that a task's tags (given at
# creation with ResourceType replace-root-volume-task) live in moto's tag store like any other
# resource's (DescribeTags with a resource-type filter would otherwise fail on the id).
ec2_utils.EC2_RESOURCE_TO_PREFIX.setdefault("replace-root-volume-task", "replacevol")
ec2_utils.EC2_PREFIX_TO_RESOURCE.setdefault("replacevol", "replace-root-volume-task")

# AWS's task states, in the order this double walks them (failing/failed… never happen here).
_TASK_STEPS = ["pending", "in-progress", "succeeded"]


class ReplaceRootVolumeTask:
    """One root volume replacement task (AWS's ReplaceRootVolumeTask shape)."""

    def __init__(
        self,
        backend: Any,
        instance_id: str,
        image_id: str | None,
        snapshot_id: str | None,
        delete_replaced: bool,
        client_token: str | None,
    ):
        self.backend = backend
        self.id = ec2_utils.random_id(prefix="replacevol", size=17)
        self.instance_id = instance_id
        self.image_id = image_id
        self.snapshot_id = snapshot_id
        self.delete_replaced_root_volume = delete_replaced
        self.client_token = client_token
        self.state = "pending"
        self.start_time = utcnow()
        self.complete_time: Any = None
        # Kept for the curious (and for this double's own checks); not part of AWS's shape.
        self.old_volume_id: str | None = None
        self.new_volume_id: str | None = None

    def advance(self) -> None:
        """One step further: pending → in-progress → succeeded (then stays)."""
        i = _TASK_STEPS.index(self.state)
        if i + 1 < len(_TASK_STEPS):
            self.state = _TASK_STEPS[i + 1]
            if self.state == "succeeded":
                self.complete_time = utcnow()

    def to_shape(self) -> dict[str, Any]:
        tags = self.backend.describe_tags(filters={"resource-id": [self.id]})
        shape: dict[str, Any] = {
            "ReplaceRootVolumeTaskId": self.id,
            "InstanceId": self.instance_id,
            "TaskState": self.state,
            "StartTime": _aws_time(self.start_time),
            "Tags": [{"Key": t["key"], "Value": t["value"]} for t in tags],
            "DeleteReplacedRootVolume": self.delete_replaced_root_volume,
        }
        if self.complete_time is not None:
            shape["CompleteTime"] = _aws_time(self.complete_time)
        if self.image_id:
            shape["ImageId"] = self.image_id
        if self.snapshot_id:
            shape["SnapshotId"] = self.snapshot_id
        return shape


def _rrv_tasks(backend: Any) -> dict[str, ReplaceRootVolumeTask]:
    """The backend's tasks by id, created on first use (moto's reset clears them with the rest)."""
    tasks = backend.__dict__.get("replace_root_volume_tasks")
    if tasks is None:
        tasks = backend.__dict__["replace_root_volume_tasks"] = {}
    return tasks


def _root_device(instance: Any) -> str | None:
    """The device of the instance's root EBS volume in moto's block device mapping.

    Normally the instance's rootDeviceName; but moto attaches its default root volume at
    /dev/sda1 whatever the AMI says (e.g. /dev/xvda), so fall back to /dev/sda1, /dev/xvda, then
    the first mapped device."""
    bdm = instance.block_device_mapping
    for name in (instance.root_device_name, "/dev/sda1", "/dev/xvda"):
        if name in bdm:
            return name
    return next(iter(bdm), None)


def _image_root_size(backend: Any, image_id: str) -> tuple[int | None, str | None]:
    """(size in GiB, snapshot id) of an image's root volume, or (None, None) when moto only knows
    the id from a RunInstances it let through unchecked. Unknown image → InvalidAMIID.NotFound."""
    images = []
    try:
        images = backend.describe_images(ami_ids=[image_id])
    except EC2ClientError as e:
        if e.code != "InvalidAMIID.NotFound":
            raise  # e.g. InvalidAMIID.Malformed
    if images:
        snapshot = getattr(images[0], "ebs_snapshot", None)
        if snapshot is not None:
            return snapshot.volume_size, snapshot.id
        return None, None
    # moto's RunInstances accepts any AMI id unless MOTO_ENABLE_AMI_VALIDATION is set (the AWS
    # tests run instances from ami-0123456789abcdef0, which moto does not list). Such an id is as
    # real as moto makes it: accept it when an instance of this account/region was run from it
    # (or runs it now).
    if not settings.ENABLE_AMI_VALIDATION and any(
        image_id in (i.image_id, i.__dict__.get("launch_image_id"))
        for i in backend.all_instances()
    ):
        return None, None
    raise EC2ClientError("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist")


def create_replace_root_volume_task(
    self: Any,
    instance_id: str,
    image_id: str | None = None,
    snapshot_id: str | None = None,
    delete_replaced: bool = False,
    client_token: str | None = None,
    tags: dict[str, str] | None = None,
) -> ReplaceRootVolumeTask:
    """EBSBackend.create_replace_root_volume_task: validates as AWS does, replaces the instance's
    root volume in moto's state right away, and records the task (state "pending")."""
    tasks = _rrv_tasks(self)

    # Idempotency: the same ClientToken gives the same task back, nothing done twice; the same
    # token with other parameters is refused, as AWS does.
    if client_token:
        for task in tasks.values():
            if task.client_token == client_token:
                same = (
                    task.instance_id == instance_id
                    and task.image_id == image_id
                    and task.snapshot_id == snapshot_id
                    and task.delete_replaced_root_volume == delete_replaced
                )
                if not same:
                    raise EC2ClientError(
                        "IdempotentParameterMismatch",
                        f"The client token '{client_token}' was already used with different "
                        "request parameters.",
                    )
                return task

    instance = self.get_instance(instance_id)  # InvalidInstanceID.NotFound
    if image_id and snapshot_id:
        raise EC2ClientError(
            "InvalidParameterCombination",
            "The parameters ImageId and SnapshotId cannot be specified together.",
        )
    state = instance._state.name
    if state not in ("running", "stopped"):
        raise EC2ClientError(
            "IncorrectInstanceState",
            f"The instance '{instance_id}' is not in a valid state for this operation: it is "
            f"'{state}' and must be 'running' or 'stopped'.",
        )

    # Where the replacement comes from: an image, a snapshot, or the root volume's launch state.
    new_size: int | None = None
    new_snapshot_id: str | None = None
    if image_id:
        new_size, new_snapshot_id = _image_root_size(self, image_id)
    elif snapshot_id:
        if snapshot_id not in self.snapshots:
            raise EC2ClientError(
                "InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist."
            )
        snapshot = self.snapshots[snapshot_id]
        new_size, new_snapshot_id = snapshot.volume_size, snapshot.id

    # Swap the root volume: the old one leaves the mapping (deleted or left "available"), a new
    # moto volume takes its device with the same type, encryption and delete-on-termination.
    device = _root_device(instance)
    old = None
    delete_on_termination = True
    if device is not None:
        mapped = instance.block_device_mapping[device]
        delete_on_termination = bool(mapped.delete_on_termination)
        old = self.get_volume(mapped.volume_id)
    else:
        device = instance.root_device_name or "/dev/sda1"
    if old is not None and new_snapshot_id is None and not image_id:
        new_snapshot_id = old.snapshot_id  # launch state: the volume's own source snapshot
    if new_size is None:
        new_size = old.size if old is not None else 8
    new = self.create_volume(
        size=new_size,
        zone_name=(old.zone.name if old is not None and old.zone else instance._placement.zone),
        snapshot_id=new_snapshot_id if new_snapshot_id in self.snapshots else None,
        encrypted=bool(old.encrypted) if old is not None else False,
        kms_key_id=old.kms_key_id if old is not None and old.encrypted else None,
        volume_type=old.volume_type if old is not None else None,
        iops=old.iops if old is not None else None,
        throughput=old.throughput if old is not None else None,
    )
    if old is not None:
        old_tags = {t["key"]: t["value"] for t in old.get_tags()}
        if old_tags:
            new.add_tags(old_tags)  # the replacement carries the original's tags
        self.detach_volume(old.id, instance.id, device)
    self.attach_volume(new.id, instance.id, device, delete_on_termination)
    if old is not None and delete_replaced:
        self.delete_volume(old.id)
    if image_id:
        instance.__dict__.setdefault("launch_image_id", instance.image_id)
        instance.image_id = image_id

    task = ReplaceRootVolumeTask(
        self, instance.id, image_id, snapshot_id, delete_replaced, client_token
    )
    task.old_volume_id = old.id if old is not None else None
    task.new_volume_id = new.id
    if tags:
        self.create_tags([task.id], tags)
    tasks[task.id] = task
    return task


def describe_replace_root_volume_tasks(
    self: Any, task_ids: list[str] | None = None, filters: dict[str, list[str]] | None = None
) -> list[ReplaceRootVolumeTask]:
    """EBSBackend.describe_replace_root_volume_tasks: the tasks asked for (by id and/or the
    instance-id filter), in creation order. An unknown id is simply not in the answer."""
    tasks = list(_rrv_tasks(self).values())
    if task_ids:
        tasks = [t for t in tasks if t.id in task_ids]
    for name, values in (filters or {}).items():
        if name == "instance-id":
            tasks = [t for t in tasks if t.instance_id in values]
        else:
            raise EC2ClientError("InvalidParameterValue", f"The filter '{name}' is invalid")
    return tasks


EBSBackend.create_replace_root_volume_task = create_replace_root_volume_task
EBSBackend.describe_replace_root_volume_tasks = describe_replace_root_volume_tasks


def create_replace_root_volume_task_action(self: Any) -> ActionResult:
    """EC2 CreateReplaceRootVolumeTask → <CreateReplaceRootVolumeTaskResponse>
    <requestId/><replaceRootVolumeTask>…</replaceRootVolumeTask>."""
    instance_id = self._get_param("InstanceId")
    if not instance_id:
        raise _missing("InstanceId")
    tag_specs = self._parse_tag_specification(expected_type="replace-root-volume-task")
    self.error_on_dryrun()
    task = self.ec2_backend.create_replace_root_volume_task(
        instance_id=instance_id,
        image_id=self._get_param("ImageId") or None,
        snapshot_id=self._get_param("SnapshotId") or None,
        delete_replaced=bool(self._get_param("DeleteReplacedRootVolume", False)),
        client_token=self._get_param("ClientToken") or None,
        tags=tag_specs.get("replace-root-volume-task", {}),
    )
    return ActionResult({"ReplaceRootVolumeTask": task.to_shape()})


def describe_replace_root_volume_tasks_action(self: Any) -> ActionResult:
    """EC2 DescribeReplaceRootVolumeTasks → <replaceRootVolumeTaskSet><item>…; each task
    returned moves one step on (pending → in-progress → succeeded)."""
    task_ids = self._get_param("ReplaceRootVolumeTaskIds", [])
    filters = self._filters_from_querystring()
    self.error_on_dryrun()
    tasks = self.ec2_backend.describe_replace_root_volume_tasks(task_ids, filters)
    page, next_token = _page(tasks, self._get_param("MaxResults"), self._get_param("NextToken"))
    for task in page:
        task.advance()
    result: dict[str, Any] = {"ReplaceRootVolumeTasks": [t.to_shape() for t in page]}
    if next_token:
        result["NextToken"] = next_token
    return ActionResult(result)


ElasticBlockStore.create_replace_root_volume_task = create_replace_root_volume_task_action
ElasticBlockStore.describe_replace_root_volume_tasks = describe_replace_root_volume_tasks_action


# ---------------------------------------------------------------------------------------------
# 3-5. Reverse DNS of Elastic IPs: Modify/Reset/DescribeAddressesAttribute (domain-name)
# ---------------------------------------------------------------------------------------------

# AWS writes PTR names fully qualified, with the trailing dot ("example.com.", see the
# ModifyAddressAttribute/DescribeAddressesAttribute examples in the EC2 documentation).
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def default_ptr_record(self: ElasticAddress) -> str:
    """AWS's own reverse name for a public IPv4 address A.B.C.D:
    ec2-A-B-C-D.compute-1.amazonaws.com. in us-east-1, ec2-A-B-C-D.REGION.compute.amazonaws.com.
    elsewhere (….amazonaws.com.cn. in China)."""
    dashed = self.public_ip.replace(".", "-")
    region = self.ec2_backend.region_name
    if region == "us-east-1":
        return f"ec2-{dashed}.compute-1.amazonaws.com."
    suffix = "amazonaws.com.cn." if region.startswith("cn-") else "amazonaws.com."
    return f"ec2-{dashed}.{region}.compute.{suffix}"


def ptr_record(self: ElasticAddress) -> str:
    """The address's current PTR record: the one set by ModifyAddressAttribute, else AWS's."""
    return self.custom_ptr_record or self.default_ptr_record


ElasticAddress.custom_ptr_record = None  # per address, set by ModifyAddressAttribute
ElasticAddress.default_ptr_record = property(default_ptr_record)
ElasticAddress.ptr_record = property(ptr_record)


def _address(backend: Any, allocation_id: str) -> ElasticAddress:
    for address in backend.addresses:
        if address.allocation_id and address.allocation_id == allocation_id:
            return address
    raise EC2ClientError(
        "InvalidAllocationID.NotFound", f"The allocation ID '{allocation_id}' does not exist"
    )


def _check_attribute(attribute: str | None, required: bool) -> None:
    if attribute is None and not required:
        return
    if attribute is None:
        raise _missing("Attribute")
    if attribute != "domain-name":
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({attribute}) for parameter attribute is invalid. Valid values: domain-name",
        )


def modify_address_domain_name(self: Any, allocation_id: str, domain_name: str) -> tuple:
    """ElasticAddressBackend: sets the PTR record (at once); returns (address, previous record)."""
    address = _address(self, allocation_id)
    name = domain_name.strip()
    labels = name.rstrip(".").split(".")
    if not name or len(name.rstrip(".")) > 253 or not all(_LABEL.match(lb) for lb in labels):
        raise EC2ClientError(
            "InvalidParameterValue", f"Value ({domain_name}) for parameter domainName is invalid."
        )
    before = address.ptr_record
    address.custom_ptr_record = _fqdn(name.lower())
    return address, before


def reset_address_domain_name(self: Any, allocation_id: str) -> tuple:
    """ElasticAddressBackend: back to AWS's default PTR record; returns (address, previous)."""
    address = _address(self, allocation_id)
    before = address.ptr_record
    address.custom_ptr_record = None
    return address, before


def describe_address_domain_names(self: Any, allocation_ids: list[str] | None) -> list:
    """ElasticAddressBackend: the VPC addresses asked for (all of them without ids)."""
    if allocation_ids:
        return [_address(self, a) for a in allocation_ids]
    return [a for a in self.addresses if a.allocation_id]


ElasticAddressBackend.modify_address_domain_name = modify_address_domain_name
ElasticAddressBackend.reset_address_domain_name = reset_address_domain_name
ElasticAddressBackend.describe_address_domain_names = describe_address_domain_names


def _pending_update(address: ElasticAddress, before: str, after: str) -> dict[str, Any]:
    """AWS's AddressAttribute of a Modify/Reset answer: the record as it was, and the update."""
    return {
        "PublicIp": address.public_ip,
        "AllocationId": address.allocation_id,
        "PtrRecord": before,
        "PtrRecordUpdate": {"Value": after, "Status": "PENDING"},
    }


def modify_address_attribute_action(self: Any) -> ActionResult:
    """EC2 ModifyAddressAttribute (AllocationId, DomainName) → <ModifyAddressAttributeResponse>
    <requestId/><address><publicIp/><allocationId/><ptrRecord/><ptrRecordUpdate>
    <value/><status>PENDING</status></ptrRecordUpdate></address>."""
    allocation_id = self._get_param("AllocationId")
    domain_name = self._get_param("DomainName")
    if not allocation_id:
        raise _missing("AllocationId")
    if not domain_name:
        raise _missing("DomainName")
    self.error_on_dryrun()
    address, before = self.ec2_backend.modify_address_domain_name(allocation_id, domain_name)
    return ActionResult({"Address": _pending_update(address, before, address.ptr_record)})


def reset_address_attribute_action(self: Any) -> ActionResult:
    """EC2 ResetAddressAttribute (AllocationId, Attribute=domain-name) → shaped like
    ModifyAddressAttribute's answer, the update's value being AWS's default name."""
    allocation_id = self._get_param("AllocationId")
    if not allocation_id:
        raise _missing("AllocationId")
    _check_attribute(self._get_param("Attribute"), required=True)
    self.error_on_dryrun()
    address, before = self.ec2_backend.reset_address_domain_name(allocation_id)
    return ActionResult({"Address": _pending_update(address, before, address.ptr_record)})


def describe_addresses_attribute_action(self: Any) -> ActionResult:
    """EC2 DescribeAddressesAttribute (AllocationId.N, Attribute=domain-name) →
    <addressSet><item><publicIp/><allocationId/><ptrRecord/></item>…; replaces moto's own,
    which knows no PTR records."""
    allocation_ids = self._get_param("AllocationIds", [])
    _check_attribute(self._get_param("Attribute"), required=False)
    self.error_on_dryrun()
    addresses = self.ec2_backend.describe_address_domain_names(allocation_ids)
    page, next_token = _page(
        addresses, self._get_param("MaxResults"), self._get_param("NextToken")
    )
    result: dict[str, Any] = {
        "Addresses": [
            {"PublicIp": a.public_ip, "AllocationId": a.allocation_id, "PtrRecord": a.ptr_record}
            for a in page
        ]
    }
    if next_token:
        result["NextToken"] = next_token
    return ActionResult(result)


ElasticIPAddresses.modify_address_attribute = modify_address_attribute_action
ElasticIPAddresses.reset_address_attribute = reset_address_attribute_action
ElasticIPAddresses.describe_addresses_attribute = describe_addresses_attribute_action


# ---------------------------------------------------------------------------------------------
# 6. EC2 Instance Connect: SendSerialConsoleSSHPublicKey
# ---------------------------------------------------------------------------------------------
# moto routes a request to its ec2instanceconnect backend by the SigV4 credential scope's
# service (ec2-instance-connect), whatever the host, so a client signing for
# ec2-instance-connect and sending to the one moto endpoint reaches this; the action comes from
# X-Amz-Target (AWSEC2InstanceConnectService.SendSerialConsoleSSHPublicKey).

# Key types EC2 Instance Connect takes (OpenSSH format, RSA and ED25519).
_SSH_KEY = re.compile(r"^(ssh-rsa|ssh-ed25519) [A-Za-z0-9+/]+={0,3}( .*)?$")


class InstanceConnectError(ServiceException):
    """An EC2 Instance Connect error: code is the model's exception name (the JSON __type)."""


def send_serial_console_ssh_public_key(self: Any) -> ActionResult:
    """Instance Connect SendSerialConsoleSSHPublicKey {InstanceId, SerialPort (0), SSHPublicKey}
    → {"RequestId": …, "Success": true}. The instance is looked up in the EC2 backend of the same
    account and region."""
    try:
        body = json.loads(self.body or "{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InstanceConnectError("InvalidArgsException", "The request body is not valid JSON.")

    instance_id = body.get("InstanceId")
    port = body.get("SerialPort", 0)
    key = body.get("SSHPublicKey")
    if not isinstance(instance_id, str) or not re.fullmatch(r"i-[a-f0-9]{8,30}", instance_id):
        raise InstanceConnectError(
            "InvalidArgsException", f"Instance ID '{instance_id}' is not valid."
        )
    if port != 0:
        raise InstanceConnectError(
            "InvalidArgsException", "Serial port is not valid: only port 0 is supported."
        )
    if not isinstance(key, str) or not 80 <= len(key) <= 4096 or not _SSH_KEY.match(key.strip()):
        raise InstanceConnectError(
            "InvalidArgsException",
            "The SSH public key is not valid: an OpenSSH RSA or ED25519 public key is expected.",
        )

    from moto.ec2.models import ec2_backends

    instance = ec2_backends[self.current_account][self.region].get_instance_by_id(instance_id)
    if instance is None:
        raise InstanceConnectError(
            "EC2InstanceNotFoundException", f"Instance {instance_id} not found."
        )
    if instance._state.name != "running":
        raise InstanceConnectError(
            "EC2InstanceStateInvalidException",
            f"Instance {instance_id} is {instance._state.name}; it must be running.",
        )
    return ActionResult({"RequestId": str(uuid.uuid4()), "Success": True})


Ec2InstanceConnectResponse.send_serial_console_ssh_public_key = send_serial_console_ssh_public_key


if __name__ == "__main__":
    moto.server.main(sys.argv[1:])
