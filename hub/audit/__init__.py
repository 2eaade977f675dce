"""The audit trail: who took, gave back or changed money, and who logged in.

``chain`` keeps the hash-chained table and proves it; ``records`` says what each
kind of action writes there.
"""
