# Hypervisor backends, one library each (the device model links the ones it supports).
$(eval $(call add_lib,vmm_kvm,$(addprefix devicemodel/vmm/,vmm_kvm.c vmm_kvm_cpus.c vmm_kvm_vcpu.c vmm_kvm_regs.c vmm_kvm_irq.c)))

# ACRN HSM backend (/dev/acrn_hsm); its tests replace the kernel boundary with a fake HSM.
$(eval $(call add_lib,vmm_hsm,$(addprefix devicemodel/vmm/,vmm_hsm.c vmm_hsm_cpus.c vmm_hsm_ioreq.c vmm_hsm_regs.c vmm_hsm_irq.c vmm_hsm_vdev.c vmm_hsm_abi.c)))
HSM_TEST_WRAPS := open ioctl close mmap munmap
$(eval $(call add_unit_test,test_vmm_hsm,tests/unit/test_vmm_hsm.c tests/unit/test_vmm_hsm_fixture.c tests/unit/test_vmm_hsm_fake.c,vmm_hsm core,$(HSM_TEST_WRAPS)))
$(eval $(call add_unit_test,test_vmm_hsm_create,tests/unit/test_vmm_hsm_create.c tests/unit/test_vmm_hsm_fixture.c tests/unit/test_vmm_hsm_fake.c,vmm_hsm core,$(HSM_TEST_WRAPS)))
$(eval $(call add_unit_test,test_vmm_hsm_errors,tests/unit/test_vmm_hsm_errors.c tests/unit/test_vmm_hsm_fixture.c tests/unit/test_vmm_hsm_fake.c,vmm_hsm core,$(HSM_TEST_WRAPS)))
$(eval $(call add_unit_test,test_vmm_hsm_ioreq,tests/unit/test_vmm_hsm_ioreq.c tests/unit/test_vmm_hsm_fake.c,vmm_hsm core,$(HSM_TEST_WRAPS)))
$(eval $(call add_unit_test,test_vmm_hsm_vdev,tests/unit/test_vmm_hsm_vdev.c tests/unit/test_vmm_hsm_fake.c,vmm_hsm core,$(HSM_TEST_WRAPS)))

# Real guests on /dev/kvm (skipped when it is missing or unusable).
KVM_GUEST_FIXTURE := tests/unit/test_vmm_kvm_fixture.c
$(eval $(call add_unit_test,test_vmm_kvm,tests/unit/test_vmm_kvm.c $(KVM_GUEST_FIXTURE),vmm_kvm loader core))
$(eval $(call add_unit_test,test_vmm_kvm_irq,tests/unit/test_vmm_kvm_irq.c $(KVM_GUEST_FIXTURE),vmm_kvm core))
$(eval $(call add_unit_test,test_vmm_kvm_api,tests/unit/test_vmm_kvm_api.c,vmm_kvm core))
$(eval $(call add_unit_test,test_vmm_kvm_cpus,tests/unit/test_vmm_kvm_cpus.c,vmm_kvm core))

# The hypervisor's PCI vUART (devicemodel/hw/pci_vuart.c) handed over through the HSM backend.
$(eval $(call add_unit_test,test_pci_vuart,tests/unit/test_pci_vuart.c $(PCI_TEST_FIXTURE) tests/unit/test_vmm_hsm_fake.c,$(PCI_TEST_LIBS) vmm_hsm,$(HSM_TEST_WRAPS)))
